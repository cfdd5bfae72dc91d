"""The mailbox form of the Django admin: the IMAP password is write-only."""

from __future__ import annotations

from typing import Any

from django import forms

from deskpilot.mail.models import AfterImport, Mailbox


class MailboxForm(forms.ModelForm):
    # Never rendered back into the page (render_value=False); left empty, the stored one stays.
    imap_password = forms.CharField(
        label="IMAP password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=(
            "Leave empty to keep the stored password (only while the server, port, security and user "
            "stay the same). It is never shown, logged or put in an error."
        ),
    )
    # Changing any of these sends the stored password somewhere else: it must be typed again, so
    # nobody who may edit the mailbox (but never saw the password) can redirect it to their server.
    CONNECTION_FIELDS = ("imap_host", "imap_port", "imap_security", "imap_user")

    class Meta:
        model = Mailbox
        fields = [
            "address", "name", "team", "active", "send_acknowledgement", "imap_host", "imap_port", "imap_security",
            "imap_user", "imap_password", "imap_folder", "after_import", "move_to_folder",
        ]  # fmt: skip

    def clean_imap_password(self) -> str:
        password: str = self.cleaned_data.get("imap_password") or ""
        if not password and self.instance.pk:
            return self.instance.imap_password
        return password

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        typed = bool(self.data.get(self.add_prefix("imap_password")))
        moved = [name for name in self.CONNECTION_FIELDS if name in self.changed_data]
        if self.instance.pk and self.instance.imap_password and moved and not typed and data.get("imap_host"):
            self.add_error(
                "imap_password",
                "Enter the password again: the server, port, security or user changed, and the stored "
                "password is only ever sent to the server it was entered for.",
            )
        if data.get("after_import") == AfterImport.MOVE and not (data.get("move_to_folder") or "").strip():
            self.add_error("move_to_folder", "Name the folder that imported mail is moved to.")
        if data.get("imap_host") and not data.get("imap_user"):
            self.add_error("imap_user", "An IMAP server needs a user name.")
        return data
