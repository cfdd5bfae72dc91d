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
        help_text="Leave empty to keep the stored password. It is never shown, logged or put in an error.",
    )

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
        if data.get("after_import") == AfterImport.MOVE and not (data.get("move_to_folder") or "").strip():
            self.add_error("move_to_folder", "Name the folder that imported mail is moved to.")
        if data.get("imap_host") and not data.get("imap_user"):
            self.add_error("imap_user", "An IMAP server needs a user name.")
        return data
