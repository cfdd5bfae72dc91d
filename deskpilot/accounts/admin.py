"""Django admin for users, teams and API tokens.

The admin is where admins and managers configure the help desk (``User.is_staff`` is derived from
the role). Users are created and changed through ``accounts.actions``, the same functions the API
and the command line call, so the rules live in one place: a manager cannot create or promote an
admin, nobody changes their own role, a customer account is linked to its customer record.
Nothing here deletes: deleting a user, a team or a token would rewrite ticket history (events keep
who acted) or silently unassign tickets; deactivating and revoking keep the record.
"""

from __future__ import annotations

import zoneinfo
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from deskpilot.accounts import actions as account_actions
from deskpilot.accounts.models import STAFF_ROLES, ApiToken, Role, Team, TeamMembership, User
from deskpilot.core.errors import InvalidInput, NotPermitted

if TYPE_CHECKING:
    from django.contrib.admin.options import InlineModelAdmin

admin.site.site_header = "Deskpilot administration"
admin.site.site_title = "Deskpilot admin"
admin.site.index_title = "Help desk configuration"

# Roles are the single source of permissions (User.has_perm); Django's groups would be a second,
# contradicting one, so they are not offered.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


# --- forms that write through actions ------------------------------------------------------------


class _RollBack(Exception):
    """Raised to undo a dry run of an action."""


class ActionForm(forms.ModelForm):
    """A ModelForm whose write is an action (``perform``) rather than ``Model.save``.

    ``clean`` runs the action once inside a savepoint that is always rolled back, so every rule the
    action enforces comes back as a form error naming the field, before the admin decides to save;
    the admin's ``save_model`` then runs it for real (``ActionAdminMixin``). The rules are thus
    written once, in the action, and cannot drift from what the API and the CLI accept.
    """

    # The signed-in user the action runs as; set by ActionAdminMixin.get_form.
    actor: ClassVar[User | None] = None
    # Action field names that the form shows under another name (e.g. password -> password1).
    action_field_names: ClassVar[dict[str, str]] = {}

    def perform(self) -> models.Model:
        """Run the action with ``cleaned_data`` and return the saved object."""
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            # Field errors first: the action would only repeat them less precisely.
            return cleaned
        try:
            with transaction.atomic():
                self.perform()
                raise _RollBack
        except _RollBack:
            pass
        except InvalidInput as error:
            for name, problem in error.errors.items():
                field = self.action_field_names.get(name, name)
                if field in self.fields:
                    self.add_error(field, problem)
                else:
                    self.add_error(None, f"{name}: {problem}")
        except NotPermitted as error:
            self.add_error(None, str(error))
        return cleaned

    def save(self, commit: bool = True) -> Any:
        # The admin saves through ActionAdminMixin.save_model; a plain save would skip the action.
        raise NotImplementedError("ActionForm objects are saved by running perform()")


class ActionAdminMixin(admin.ModelAdmin):
    """Binds the signed-in user to an ActionForm and saves by running its action."""

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if not isinstance(request.user, User):
            # An action run without an actor is the server operator's command line, with every
            # right; the admin must never fall back to that.
            raise PermissionDenied
        return type(form.__name__, (form,), {"actor": request.user})

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        # The action writes later, in save_model (after inline formsets are known to be valid).
        return form.instance

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        saved = cast(ActionForm, form).perform()
        # The admin logs and redirects with ``obj``; make it the row the action wrote.
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The action saved everything the form holds (there is no form.save_m2m); inline formsets
        # are saved as usual.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


# --- users ---------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


def _role_choices_for(actor: User | None) -> list[tuple[str, str]]:
    # A manager may manage everyone but admins (accounts.actions.require_can_manage_users); offering
    # them "Admin" would only produce an error.
    roles = list(Role)
    if actor is not None and actor.role != Role.ADMIN:
        roles = [r for r in roles if r != Role.ADMIN]
    return [(r.value, r.label) for r in roles]


class _PasswordPair(forms.Form):
    """Two password inputs that must agree; used as a mixin for the user forms."""

    password1 = forms.CharField(
        label="Password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password again",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_password2(self) -> str:
        first = self.cleaned_data.get("password1") or ""
        second = self.cleaned_data.get("password2") or ""
        if first != second:
            raise forms.ValidationError("The two passwords differ.")
        return second


class UserCreationForm(_PasswordPair, ActionForm):
    time_zone = forms.ChoiceField(choices=_time_zone_choices, initial="UTC")
    action_field_names: ClassVar[dict[str, str]] = {"password": "password1"}

    class Meta:
        model = User
        fields = ("email", "name", "role", "time_zone", "language")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"] = forms.ChoiceField(choices=_role_choices_for(self.actor), initial=Role.AGENT)
        self.fields[
            "password1"
        ].help_text = (
            "At least 10 characters. Leave both empty for an account that cannot sign in until a password is set."
        )

    def perform(self) -> User:
        data = self.cleaned_data
        return account_actions.create_user(
            actor=self.actor,
            email=data["email"],
            name=data["name"],
            role=data["role"],
            # create_user hashes it with set_password; an empty field means no usable password.
            password=data.get("password1") or None,
            time_zone=data["time_zone"],
            language=data["language"],
        )


class UserChangeForm(_PasswordPair, ActionForm):
    time_zone = forms.ChoiceField(choices=_time_zone_choices)
    action_field_names: ClassVar[dict[str, str]] = {"password": "password1"}
    # Fields update_user accepts; email is fixed once an account exists (it is how people sign in
    # and how mail finds them), so it is shown read-only.
    _CHANGEABLE = ("name", "role", "time_zone", "language", "is_active")

    class Meta:
        model = User
        fields = ("name", "role", "time_zone", "language", "is_active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "role" in self.fields:
            choices = _role_choices_for(self.actor)
            current = self.instance.role
            if current not in {value for value, _ in choices}:
                choices.append((current, Role(current).label))
            self.fields["role"] = forms.ChoiceField(choices=choices)
        self.fields["password1"].label = "New password"
        self.fields["password1"].help_text = "Leave both empty to keep the current password."
        self.fields["password2"].label = "New password again"

    def perform(self) -> User:
        # A fresh copy: the form has already written the submitted values onto self.instance,
        # and update_user compares against what is stored (e.g. to refuse customer -> staff).
        user = User.objects.get(pk=self.instance.pk)
        changes: dict[str, Any] = {
            name: self.cleaned_data[name]
            for name in self._CHANGEABLE
            if name in self.changed_data and name in self.cleaned_data
        }
        if self.cleaned_data.get("password1"):
            changes["password"] = self.cleaned_data["password1"]
        if not changes:
            return user
        return account_actions.update_user(user, actor=self.actor, **changes)


@admin.register(User)
class UserAdmin(ActionAdminMixin):
    list_display = ("email", "name", "role", "is_active", "time_zone", "created_at")
    list_filter = ("role", "is_active")
    search_fields = ("email", "name")
    # Ordered by the unique (indexed) email: the table holds every customer who ever signed in.
    ordering = ("email",)
    show_full_result_count = False
    # Facet counts would scan every account once per filter option.
    show_facets = admin.ShowFacets.NEVER

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The address is typed once, when the account is created.
        return () if obj is None else ("email", "created_at", "last_login")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["form"] = UserChangeForm if obj is not None else UserCreationForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return (
                (None, {"fields": ("email", "name", "role", "time_zone", "language")}),
                ("Password", {"fields": ("password1", "password2")}),
            )
        if not self.has_change_permission(request, obj):
            return ((None, {"fields": ("email", "name", "role", "is_active", "time_zone", "language", "created_at")}),)
        return (
            (None, {"fields": ("email", "name", "role", "is_active", "time_zone", "language")}),
            ("Password", {"fields": ("password1", "password2")}),
            ("History", {"fields": ("created_at", "last_login")}),
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Managers manage everyone but admins (accounts.actions.require_can_manage_users): an
        # admin's account is read-only to them, so a manager cannot promote or lock out an admin.
        actor = request.user
        if obj is not None and isinstance(actor, User) and actor.role != Role.ADMIN and obj.role == Role.ADMIN:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Events and messages name their author; deactivate (is_active) instead of deleting.
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and obj.pk == request.user.pk and form.cleaned_data.get("password1"):
            # Changing one's own password would otherwise end the session that made the change.
            update_session_auth_hash(request, obj)


# --- teams ---------------------------------------------------------------------------------------


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 1
    fields = ("user", "joined_at")
    readonly_fields = ("joined_at",)
    autocomplete_fields = ("user",)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "user":
            # Customers cannot join a team (accounts.actions._check_members); the autocomplete may
            # list them, but the form refuses them.
            kwargs["queryset"] = User.objects.filter(role__in=STAFF_ROLES)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ("name", "description", "lead")

    def clean_name(self) -> str:
        name = " ".join(str(self.cleaned_data["name"]).split())
        # The same case-insensitive rule as accounts.actions.create_team / update_team.
        clash = Team.objects.filter(name__iexact=name).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(f"A team called {name!r} already exists.")
        return name


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    form = TeamForm
    list_display = ("name", "lead", "created_at")
    list_select_related = ("lead",)
    search_fields = ("name",)
    autocomplete_fields = ("lead",)
    inlines: ClassVar[list[type[InlineModelAdmin[Any, Any]]]] = [TeamMembershipInline]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "lead":
            kwargs["queryset"] = User.objects.filter(role__in=[Role.ADMIN, Role.MANAGER, Role.AGENT])
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # A team's lead is always one of its members (the rule accounts.actions keeps).
        team = form.instance
        if team.lead_id is not None:
            TeamMembership.objects.get_or_create(team=team, user_id=team.lead_id)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting a team would take it off its tickets without a TicketEvent.
        return False


# --- API tokens ----------------------------------------------------------------------------------


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """A read-only list. Tokens are issued by ``deskpilot tokens create`` (the secret is shown once,
    on the terminal); only a prefix is shown here and the hash never is."""

    list_display = ("key_prefix", "name", "user", "scope", "created_at", "last_used_at", "revoked_at")
    list_filter = ("scope", ("revoked_at", admin.EmptyFieldListFilter))
    list_select_related = ("user",)
    search_fields = ("key_prefix", "name", "user__email")
    ordering = ("-id",)
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    # key_hash is deliberately absent from every list here.
    fields = ("key_prefix", "name", "user", "scope", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Revoke instead: the row keeps when the token existed and when it was last used.
        return False

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        actor = request.user
        tokens = queryset.filter(revoked_at__isnull=True).select_related("user")
        skipped = 0
        revoked = 0
        for token in tokens:
            try:
                account_actions.require_can_manage_users(actor if isinstance(actor, User) else None, token.user.role)
            except NotPermitted:
                skipped += 1
                continue
            account_actions.revoke_token(token)
            revoked += 1
        self.message_user(request, f"Revoked {revoked} token(s).", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"{skipped} token(s) of admins were left alone.", messages.WARNING)
