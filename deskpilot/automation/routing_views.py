"""Routing pages: the availability control in every agent's page header, and the managers' pages
for each team's routing mode and settings and its members' capacity, skills and languages.

Thin: the forms parse, accounts.actions decide and validate, and a refusal is shown next to the
field it concerns with status 422."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskpilot.accounts import actions
from deskpilot.accounts.access import agent_required, manager_required, page_user
from deskpilot.accounts.models import AGENT_ROLES, Availability, Team, TeamMembership, User
from deskpilot.automation.routing_forms import WEIGHT_FIELDS, AvailabilityForm, MemberRoutingForm, TeamRoutingForm
from deskpilot.core.errors import InvalidInput
from deskpilot.tickets.models import UNSOLVED, Ticket

# --- availability --------------------------------------------------------------------------------


def _back(request: HttpRequest, wanted: str) -> str:
    if wanted and url_has_allowed_host_and_scheme(wanted, {request.get_host()}, require_https=request.is_secure()):
        return wanted
    return reverse("tickets:inbox")


@require_POST  # outermost: a GET is refused (405) before who asks matters
@agent_required
def availability(request: HttpRequest) -> HttpResponse:
    """Set the signed-in agent's availability. htmx swaps the header control in place; without
    JavaScript the form posts and the agent returns to the page they were on."""
    user = page_user(request)
    form = AvailabilityForm(request.POST)
    if form.is_valid():
        try:
            actions.set_availability(user, form.cleaned_data["availability"], actor=user)
        except InvalidInput as error:
            form.add_action_error(error)
    htmx = request.headers.get("HX-Request") == "true"
    if form.errors:
        template = "routing/_availability.html" if htmx else "routing/availability.html"
        return render(request, template, {"availability_form": form, "form": form}, status=422)
    if htmx:
        return render(request, "routing/_availability.html", {"availability_form": form})
    messages.success(request, f"You are {user.get_availability_display().lower()}.")
    # A page rendered for a POST (a form with errors) has no address to come back to: the referrer.
    return redirect(_back(request, form.cleaned_data["next"] or request.headers.get("Referer", "")))


# --- managers: teams' routing --------------------------------------------------------------------


@require_GET
@manager_required
def teams(request: HttpRequest) -> HttpResponse:
    """Every team with its routing mode, who is online and how many tickets wait in its queue."""
    rows = list(Team.objects.annotate(size=Count("members", distinct=True)).order_by("name"))
    online = dict(
        TeamMembership.objects.filter(
            user__availability=Availability.ONLINE, user__is_active=True, user__role__in=AGENT_ROLES
        )
        .values_list("team_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    queued = dict(
        Ticket.objects.filter(team__isnull=False, assignee__isnull=True, status__in=UNSOLVED)
        .values_list("team_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    context = {
        "rows": [(team, online.get(team.pk, 0), queued.get(team.pk, 0)) for team in rows],
    }
    return render(request, "routing/teams.html", context)


def _team(team_id: int) -> Team:
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise Http404("team not found")
    return team


def _members(team: Team) -> list[User]:
    return list(User.objects.filter(teams=team, role__in=AGENT_ROLES).order_by("name", "pk"))


def _team_page(
    request: HttpRequest,
    team: Team,
    *,
    form: TeamRoutingForm | None = None,
    member_form: MemberRoutingForm | None = None,
    status: int = 200,
) -> HttpResponse:
    members = _members(team)
    forms = [
        member_form if member_form is not None and member_form.member.pk == m.pk else MemberRoutingForm(member=m)
        for m in members
    ]
    queued = Ticket.objects.filter(team=team, assignee__isnull=True, status__in=UNSOLVED).count()
    context: dict[str, Any] = {
        "team": team,
        "form": form or TeamRoutingForm(team=team),
        "member_forms": forms,
        "queued": queued,
    }
    return render(request, "routing/team.html", context, status=status)


@require_http_methods(["GET", "POST"])
@manager_required
def team(request: HttpRequest, team_id: int) -> HttpResponse:
    """A team's routing mode and settings, and its members' capacity and skills."""
    found = _team(team_id)
    if request.method == "GET":
        return _team_page(request, found)
    form = TeamRoutingForm(request.POST, team=found)
    if form.is_valid():
        try:
            actions.set_team_routing(found, actor=page_user(request), **form.changes())
        except InvalidInput as error:
            form.add_action_error(error, WEIGHT_FIELDS)
        else:
            messages.success(request, f"Routing of {found.name} saved.")
            return redirect("routing:team", team_id=found.pk)
    return _team_page(request, found, form=form, status=422)


@require_POST  # outermost: a GET is refused (405) before who asks matters
@manager_required
def member(request: HttpRequest, team_id: int, user_id: int) -> HttpResponse:
    """One member's capacity, skills and languages (they are the agent's, in all their teams)."""
    found = _team(team_id)
    person = next((m for m in _members(found) if m.pk == user_id), None)
    if person is None:
        raise Http404("not a member of this team")
    form = MemberRoutingForm(request.POST, member=person)
    if form.is_valid():
        try:
            actions.set_agent_routing(person, actor=page_user(request), **form.changes())
        except InvalidInput as error:
            form.add_action_error(error)
        else:
            messages.success(request, f"Routing profile of {person.name} saved.")
            return redirect(reverse("routing:team", args=[found.pk]) + f"#member-{person.pk}")
    return _team_page(request, found, member_form=form, status=422)
