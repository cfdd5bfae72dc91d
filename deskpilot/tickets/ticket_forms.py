"""The forms of the agent's ticket page: the reply composer, the side panel's update form and the
merge form. They parse and check what a person typed; the actions decide what is allowed, and
their InvalidInput lands next to the field it names (PageForm.add_action_error)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.forms.utils import flatatt
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from deskpilot.accounts.models import Role, User
from deskpilot.core.forms import PageForm
from deskpilot.tickets.attachments import IncomingFile
from deskpilot.tickets.models import CustomField, FieldKind, Priority, Status, Ticket, TicketType
from deskpilot.tickets.page_queries import Staff

PUBLIC = "public"
INTERNAL = "internal"
# Statuses a reply can set ("submit as"): never new (someone has acted) nor closed (solved
# tickets close on their own).
REPLY_STATUSES = [s for s in Status if s not in (Status.NEW, Status.CLOSED)]
CUSTOM_PREFIX = "cf_"


def _choices_of(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class FastSelect(forms.Select):
    """A select rendered in Python. Django renders a template per option, which was nearly half
    of this page's rendering time (the page's budget is 80 ms at p95); the HTML is the same."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join(
            "\n",
            '<option value="{}"{}>{}</option>',
            (
                (option["value"], flatatt(option["attrs"]), option["label"])
                for _group, choices, _index in widget["optgroups"]
                for option in choices
            ),
        )
        return format_html('<select name="{}"{}>\n{}\n</select>', widget["name"], flatatt(widget["attrs"]), options)


class TeamMemberSelect(FastSelect):
    """The assignee select: each agent's option names their teams, so the page (Alpine.js) can
    offer only the chosen team's members. Without JavaScript every agent is listed, and the
    action refuses an assignee outside the team, next to the field."""

    def __init__(self, teams_of: dict[int, set[int]], attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.teams_of = teams_of

    def create_option(
        self,
        name: str,
        value: Any,
        label: int | str,
        selected: bool,
        index: int,
        subindex: int | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if value:
            teams = " ".join(str(t) for t in sorted(self.teams_of.get(int(str(value)), ())))
            option["attrs"]["data-teams"] = teams
            option["attrs"]["x-bind:hidden"] = "team !== '' && !$el.dataset.teams.split(' ').includes(team)"
        return option


def _normal_tag(name: str) -> str:
    # As actions.clean_tag stores it, to tell whether the tags really changed.
    return "-".join(name.strip().lower().split())


def split_tags(text: str) -> list[str]:
    return [t for t in (_normal_tag(part) for part in text.split(",")) if t]


class ReplyForm(PageForm):
    """A public reply or an internal note, optionally setting the status ("submit as")."""

    prefix = "reply"

    kind = forms.ChoiceField(
        label="Message type",
        choices=[(PUBLIC, "Public reply"), (INTERNAL, "Internal note")],
        widget=forms.RadioSelect(attrs={"x-model": "kind"}),
        initial=PUBLIC,
    )
    body = forms.CharField(
        label="Message",
        widget=forms.Textarea(attrs={"rows": 6, "data-reply-input": ""}),
        strip=True,
        error_messages={"required": "Write a message before sending it."},
    )
    status = forms.ChoiceField(label="and set status to", required=False, widget=FastSelect)
    attachments = MultipleFileField(label="Attach files", required=False)

    def __init__(self, *args: Any, user: User, ticket: Ticket, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.internal_only = user.role == Role.COLLABORATOR
        self.fields[
            "attachments"
        ].help_text = f"Several files at once; each at most {filesizeformat(settings.ATTACHMENT_MAX_BYTES)}."
        if self.internal_only:
            _choices_of(self, "kind").choices = [(INTERNAL, "Internal note")]
            self.fields["kind"].error_messages["invalid_choice"] = "Collaborators can add internal notes only."
            self.fields["kind"].initial = INTERNAL
            del self.fields["status"]
        else:
            current = Status(ticket.status).label
            _choices_of(self, "status").choices = [("", f"{current} (unchanged)")] + [
                (s.value, s.label) for s in REPLY_STATUSES
            ]

    @property
    def public(self) -> bool:
        return bool(self.cleaned_data.get("kind") == PUBLIC)

    def clean_attachments(self) -> list[UploadedFile]:
        files: list[UploadedFile] = self.cleaned_data.get("attachments") or []
        limit = settings.ATTACHMENT_MAX_BYTES
        for file in files:
            if file.size is not None and file.size > limit:
                raise forms.ValidationError(
                    f"{file.name} is too large ({filesizeformat(file.size)}); "
                    f"the limit is {filesizeformat(limit)} per file."
                )
        return files

    def incoming_files(self) -> list[IncomingFile]:
        return [
            IncomingFile(filename=f.name or "attachment", content=f.read(), content_type=f.content_type or "")
            for f in self.cleaned_data.get("attachments") or []
        ]


class TicketUpdateForm(PageForm):
    """The side panel: status, priority, type, team, assignee, tags and custom fields, guarded by
    the ticket's version so a stale page cannot overwrite someone else's change."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(label="Status", widget=FastSelect)
    priority = forms.ChoiceField(label="Priority", choices=Priority.choices, widget=FastSelect)
    type = forms.ChoiceField(label="Type", choices=TicketType.choices, widget=FastSelect)
    team = forms.ChoiceField(label="Team", required=False, widget=FastSelect)
    assignee = forms.ChoiceField(label="Assignee", required=False)
    tags = forms.CharField(label="Tags", required=False, help_text="Comma-separated, e.g. billing, refund.")

    def __init__(
        self,
        *args: Any,
        ticket: Ticket,
        staff: Staff,
        custom_fields: Sequence[CustomField],
        tag_names: Sequence[str],
        **kwargs: Any,
    ) -> None:
        self.ticket = ticket
        self.staff = staff
        self.custom_field_defs = list(custom_fields)
        initial = {
            "expected_version": ticket.version,
            "status": ticket.status,
            "priority": ticket.priority,
            "type": ticket.type,
            "team": str(ticket.team_id or ""),
            "assignee": str(ticket.assignee_id or ""),
            "tags": ", ".join(tag_names),
        }
        self.current_tags = sorted(tag_names)
        current = ticket.custom_fields or {}
        for definition in self.custom_field_defs:
            value = current.get(definition.key)
            if definition.kind == FieldKind.CHECKBOX:
                value = bool(value)
            elif value is not None:
                value = str(value)
            initial[CUSTOM_PREFIX + definition.key] = value
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        # New only while nobody has acted; closed only from solved (the actions' rules).
        allowed = [
            s
            for s in Status
            if (s != Status.NEW or ticket.status == Status.NEW)
            and (s != Status.CLOSED or ticket.status in (Status.SOLVED, Status.CLOSED))
        ]
        _choices_of(self, "status").choices = [(s.value, s.label) for s in allowed]
        _choices_of(self, "team").choices = [("", "No team")] + [(str(t.pk), t.name) for t in staff.teams]
        self.fields["assignee"].widget = TeamMemberSelect(staff.teams_of, attrs={"x-ref": "assignee"})
        _choices_of(self, "assignee").choices = [("", "Unassigned")] + [(str(a.pk), a.name) for a in staff.agents]
        self.fields["team"].widget.attrs.update(
            {
                "x-model": "team",
                # An assignee outside the newly chosen team is no longer offered: unassign.
                "x-on:change": "$nextTick(() => { const o = $refs.assignee.selectedOptions[0];"
                " if (o && o.hidden) $refs.assignee.value = '' })",
            }
        )
        for definition in self.custom_field_defs:
            self.fields[CUSTOM_PREFIX + definition.key] = self._custom_field(definition)

    def _custom_field(self, definition: CustomField) -> forms.Field:
        label = definition.label
        required = definition.required
        kind = definition.kind
        if kind == FieldKind.NUMBER:
            return forms.CharField(
                label=label, required=required, widget=forms.NumberInput(attrs={"step": "any"}), strip=True
            )
        if kind == FieldKind.DATE:
            return forms.CharField(label=label, required=required, widget=forms.DateInput(attrs={"type": "date"}))
        if kind == FieldKind.DROPDOWN:
            choices = [("", "—")] + [(str(c), str(c)) for c in definition.choices]
            return forms.ChoiceField(label=label, required=required, choices=choices, widget=FastSelect)
        if kind == FieldKind.CHECKBOX:
            return forms.BooleanField(label=label, required=False)
        return forms.CharField(label=label, required=required, strip=True)

    def custom_bound_fields(self) -> list[forms.BoundField]:
        return [self[CUSTOM_PREFIX + d.key] for d in self.custom_field_defs]

    def changes(self) -> dict[str, Any]:
        """What differs from the ticket as the page showed it, in update_ticket's terms. Only
        changed fields are sent, so saving the panel never re-validates untouched values."""
        data = self.cleaned_data
        ticket = self.ticket
        changes: dict[str, Any] = {}
        for name in ("status", "priority", "type"):
            if data[name] != getattr(ticket, name):
                changes[name] = data[name]
        team_id = int(data["team"]) if data.get("team") else None
        if team_id != ticket.team_id:
            changes["team"] = self.staff.team(team_id) if team_id else None
        assignee_id = int(data["assignee"]) if data.get("assignee") else None
        if assignee_id != ticket.assignee_id:
            changes["assignee"] = self.staff.agent(assignee_id) if assignee_id else None
        tags = split_tags(data.get("tags") or "")
        if sorted(set(tags)) != self.current_tags:
            changes["tags"] = tags
        custom: dict[str, Any] = {}
        current = ticket.custom_fields or {}
        for definition in self.custom_field_defs:
            value = self._custom_value(definition, data.get(CUSTOM_PREFIX + definition.key))
            if value != current.get(definition.key):
                custom[definition.key] = value
        if custom:
            changes["custom_fields"] = custom
        return changes

    @staticmethod
    def _custom_value(definition: CustomField, raw: Any) -> Any:
        """The typed value update_ticket expects; None clears the field."""
        if definition.kind == FieldKind.CHECKBOX:
            return bool(raw)
        if raw in (None, ""):
            return None
        if definition.kind == FieldKind.DROPDOWN:
            # The posted text names one of the choices; the stored value keeps the choice's type.
            return next((c for c in definition.choices if str(c) == raw), raw)
        if definition.kind == FieldKind.NUMBER:
            try:
                number = float(raw)
            except ValueError:
                return raw  # the action names the problem
            return int(number) if number.is_integer() and "." not in raw else number
        return raw

    def field_map(self) -> dict[str, str]:
        """Action field names → this form's fields (custom_fields.<key> → cf_<key>)."""
        mapping = {f"custom_fields.{d.key}": CUSTOM_PREFIX + d.key for d in self.custom_field_defs}
        mapping["add_tags"] = mapping["remove_tags"] = "tags"
        return mapping


class MergeForm(PageForm):
    prefix = "merge"
    into = forms.IntegerField(
        label="Merge into ticket number",
        min_value=1,
        help_text="Its messages move there and this ticket closes.",
        widget=forms.NumberInput(attrs={"placeholder": "e.g. 1042", "inputmode": "numeric"}),
        error_messages={"required": "Give the number of the ticket to merge into.", "invalid": "Give a number."},
    )


class EscalationForm(PageForm):
    """Move the ticket up or down the escalation ladder, with a reason."""

    prefix = "escalation"
    level = forms.ChoiceField(
        label="Escalate to",
        choices=[("", "Tier 1 (de-escalate)"), ("tier2", "Tier 2"), ("manager", "Manager")],
        required=False,
    )
    reason = forms.CharField(
        label="Reason",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown in the history, and counted in reports.",
        error_messages={"required": "Say why: the next person reads it in the history."},
    )

    def __init__(self, *args: Any, current: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The next step up is what people usually want.
        ladder = ["", "tier2", "manager"]
        position = ladder.index(current or "")
        self.fields["level"].initial = ladder[min(position + 1, len(ladder) - 1)]
