"""Forms of the customer portal and the public request form."""

from __future__ import annotations

import time
from typing import Any

from django import forms
from django.core import signing
from django.core.files.uploadedfile import UploadedFile

from deskpilot.core.errors import InvalidInput, TooLarge
from deskpilot.core.forms import PageForm
from deskpilot.tickets.actions import SUBJECT_MAX
from deskpilot.tickets.attachments import IncomingFile

# A person needs more than this to type a request; a script posting the form does not.
MIN_FILL_SECONDS = 3
# A form left open longer than this is sent again with a fresh token (nothing typed is lost).
MAX_FILL_SECONDS = 24 * 3600
_STAMP_SALT = "deskpilot.portal.public_request"

# Action field names → this page's field names.
FIELD_MAP = {"body": "description", "requester.email": "email", "requester": "email"}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files (none included); the action checks sizes and types."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(f, initial) for f in files if f]


def incoming_files(files: list[UploadedFile]) -> list[IncomingFile]:
    return [
        IncomingFile(filename=f.name or "attachment", content=f.read(), content_type=f.content_type or "")
        for f in files
    ]


class ActionErrorsMixin(PageForm):
    def add_errors_from(self, error: InvalidInput | TooLarge) -> None:
        """An action's complaint next to the field it concerns."""
        if isinstance(error, TooLarge):
            error = InvalidInput(error.field, str(error).split(": ", 1)[-1])
        self.add_action_error(error, FIELD_MAP)


def _attachments_field() -> MultipleFileField:
    return MultipleFileField(label="Attachments", help_text="Optional: screenshots, logs or documents.")


class RequestForm(ActionErrorsMixin):
    subject = forms.CharField(
        max_length=SUBJECT_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text="A few words that sum up your request.",
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="What happened, what you expected, and anything you have tried.",
    )
    attachments = _attachments_field()


class ReplyForm(ActionErrorsMixin):
    body = forms.CharField(
        label="Your reply",
        widget=forms.Textarea(attrs={"rows": 5, "data-reply-input": ""}),
    )
    attachments = _attachments_field()


def fill_stamp(now: float | None = None) -> str:
    """A signed record of when the form was shown (the client cannot forge an earlier one)."""
    return signing.dumps(now if now is not None else time.time(), salt=_STAMP_SALT)


class PublicRequestForm(RequestForm):
    name = forms.CharField(label="Your name", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(
        label="Your email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="We reply to this address.",
    )
    # The honeypot: hidden from people (and from screen readers by its label), but bots that
    # fill every field fill it too.
    website = forms.CharField(
        label="Leave this empty",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    started = forms.CharField(required=False, widget=forms.HiddenInput())

    field_order = ["name", "email", "subject", "description", "attachments", "website", "started"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Every rendering carries a fresh stamp, so a refused form can simply be sent again.
        self.fields["started"].initial = fill_stamp()

    @property
    def is_honeypot_filled(self) -> bool:
        return bool(self.data.get("website", "").strip())

    def fill_seconds(self, now: float | None = None) -> float | None:
        """Seconds since the form was shown, or None when the stamp is missing, forged or stale."""
        try:
            started = float(signing.loads(self.data.get("started", ""), salt=_STAMP_SALT, max_age=MAX_FILL_SECONDS))
        except (signing.BadSignature, TypeError, ValueError):
            return None
        elapsed = (now if now is not None else time.time()) - started
        return elapsed if 0 <= elapsed <= MAX_FILL_SECONDS else None

    def render_started(self) -> None:
        """Re-rendering after an error: a new stamp instead of the one that was posted."""
        data = dict(self.data.items())
        data["started"] = fill_stamp()
        self.data = data
