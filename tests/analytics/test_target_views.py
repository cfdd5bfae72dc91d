"""The managers' KPI target pages (analytics.target_views): the list grouped by scope in human
units, setting, changing and deleting a target through the form with mistakes explained next to
their field (422), notes shown as text, never as markup, and who may open the pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from deskpilot.accounts.models import Role
from deskpilot.analytics import targets
from deskpilot.analytics.models import KpiTarget, TargetDirection
from tests import factories
from tests.pages import client_for

pytestmark = pytest.mark.django_db

HOUR = 3600
HOSTILE = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'
HOSTILE_ESCAPED = "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
# Queries the base layout makes on any staff page (the unread-notifications count).
LAYOUT_QUERIES = 1


@pytest.fixture
def manager() -> Client:
    return client_for(factories.user(Role.MANAGER))


def _valid(**changes: Any) -> dict[str, Any]:
    data = {
        "kpi": "first_reply_p90_business",
        "scope": "desk",
        "team": "",
        "agent": "",
        "direction": "",
        "threshold": "4h",
        "bare_unit": "hours",
        "at_risk_band": "",
        "notes": "",
    }
    data.update(changes)
    return data


def _error(body: str, field_name: str, problem: str) -> bool:
    return f'<p class="error" id="id_{field_name}_error" role="alert">{problem}</p>' in body


# --- the list -----------------------------------------------------------------------------------


def test_an_empty_list_says_how_to_start(manager: Client) -> None:
    body = manager.get(reverse("targets:list")).content.decode()
    assert "No targets yet" in body
    assert f'href="{reverse("targets:new")}"' in body


def test_the_list_groups_targets_by_scope_in_human_units(manager: Client) -> None:
    agent = factories.user(Role.AGENT, name="Ann Lee")
    team = factories.team(name="Billing")
    targets.create_target(kpi="csat", threshold=90, at_risk_band=0, agent=agent)
    targets.create_target(kpi="sla_achievement", threshold=95, team=team)
    targets.create_target(kpi="first_reply_p90_business", threshold=4 * HOUR)
    targets.create_target(kpi="csat", threshold=92.5)
    body = manager.get(reverse("targets:list")).content.decode()
    # Desk first, then teams, then agents.
    assert body.index('id="desk"') < body.index(f'id="team-{team.pk}"') < body.index(f'id="agent-{agent.pk}"')
    assert ">Whole desk</h2>" in body
    assert ">Team: Billing</h2>" in body
    assert ">Agent: Ann Lee</h2>" in body
    desk = body[body.index('id="desk"') : body.index(f'id="team-{team.pk}"')]
    # KPIs in catalogue order within a scope: first reply before CSAT.
    assert desk.index("First reply 90th percentile (business hours)") < desk.index("CSAT")
    assert "at most 4 h (business)" in desk
    assert "from 3 h 36 min" in desk
    assert "at least 92.5 %" in desk
    assert "up to 94.5 %" in desk
    assert "at least 95 %" in body
    assert "up to 97 %" in body
    assert "never: on track or missed" in body[body.index(f'id="agent-{agent.pk}"') :]


def test_the_list_costs_the_same_queries_for_3_or_30_targets(
    manager: Client, django_assert_max_num_queries: Any
) -> None:
    def add(count: int) -> None:
        for _ in range(count):
            targets.create_target(kpi="csat", threshold=90, team=factories.team())
            targets.create_target(kpi="csat", threshold=90, agent=factories.user(Role.AGENT))
            targets.create_target(kpi="reopen_rate", threshold=5, team=factories.team())

    add(1)
    url = reverse("targets:list")
    manager.get(url)  # warm the session
    # Session, user, every target with its team and agent; and what the layout itself reads.
    with django_assert_max_num_queries(3 + LAYOUT_QUERIES) as small:
        response = manager.get(url)
    assert response.content.decode().count('<tr id="target-') == 3
    add(9)
    with django_assert_max_num_queries(len(small)):
        response = manager.get(url)
    assert response.content.decode().count('<tr id="target-') == 30


def test_notes_are_shown_as_text(manager: Client) -> None:
    team = factories.team(name=HOSTILE)
    target = targets.create_target(kpi="csat", threshold=90, team=team, notes=HOSTILE)
    for url in (reverse("targets:list"), reverse("targets:edit", args=[target.pk])):
        body = manager.get(url).content.decode()
        assert HOSTILE not in body, url
        assert HOSTILE_ESCAPED in body, url


# --- setting a target ---------------------------------------------------------------------------


def test_a_manager_sets_a_desk_target_in_hours(manager: Client) -> None:
    response = manager.post(reverse("targets:new"), _valid(threshold="1h 30m", notes="Agreed in the Q3 review"))
    assert response.status_code == 302
    assert response["Location"] == reverse("targets:list") + "#desk"
    target = KpiTarget.objects.get()
    assert (target.kpi, target.team_id, target.agent_id) == ("first_reply_p90_business", None, None)
    assert (target.threshold, target.at_risk_band, target.direction) == (90 * 60, 9 * 60, TargetDirection.AT_MOST)
    assert target.notes == "Agreed in the Q3 review"
    assert target.created_by is not None
    assert target.created_by.role == Role.MANAGER
    page = manager.get(response["Location"]).content.decode()
    assert "First reply 90th percentile (business hours) target set for the whole desk: at most 1 h 30 min" in page


@pytest.mark.parametrize(
    ("changes", "threshold", "band"),
    [
        ({"threshold": "90", "bare_unit": "minutes"}, 90 * 60, 9 * 60),
        ({"threshold": "4", "bare_unit": "hours", "at_risk_band": "30m"}, 4 * HOUR, 30 * 60),
        ({"threshold": "2.5h", "at_risk_band": "0"}, 2.5 * HOUR, 0),
        ({"kpi": "csat", "threshold": "95 %", "at_risk_band": "1,5"}, 95, 1.5),
        ({"kpi": "backlog", "threshold": "200"}, 200, 20),
    ],
)
def test_amounts_in_any_unit(manager: Client, changes: dict[str, str], threshold: float, band: float) -> None:
    assert manager.post(reverse("targets:new"), _valid(**changes)).status_code == 302
    target = KpiTarget.objects.get()
    assert (target.threshold, target.at_risk_band) == (threshold, band)


def test_a_team_and_an_agent_target(manager: Client) -> None:
    team, agent = factories.team(), factories.user(Role.AGENT)
    # The other scope's choice is ignored: the radio decides.
    response = manager.post(reverse("targets:new"), _valid(scope="team", team=team.pk, agent=agent.pk))
    assert response["Location"].endswith(f"#team-{team.pk}")
    response = manager.post(reverse("targets:new"), _valid(scope="agent", team=team.pk, agent=agent.pk))
    assert response["Location"].endswith(f"#agent-{agent.pk}")
    assert set(KpiTarget.objects.values_list("team_id", "agent_id")) == {(team.pk, None), (None, agent.pk)}


def test_created_takes_the_managers_direction(manager: Client) -> None:
    refused = manager.post(reverse("targets:new"), _valid(kpi="created", threshold="500"))
    assert refused.status_code == 422
    assert _error(refused.content.decode(), "direction", "choose at least or at most: Created has no better side")
    saved = manager.post(reverse("targets:new"), _valid(kpi="created", threshold="500", direction="at_most"))
    assert saved.status_code == 302
    assert KpiTarget.objects.get().direction == TargetDirection.AT_MOST


@pytest.mark.parametrize(
    ("changes", "field_name", "problem"),
    [
        ({"kpi": "speed"}, "kpi", "speed is not a KPI; choose one from the list"),
        ({"scope": "planet"}, "scope", "planet is not a scope; choose the whole desk, a team or an agent"),
        ({"scope": "team"}, "team", "choose the team this target is for"),
        ({"scope": "agent"}, "agent", "choose the agent this target is for"),
        ({"scope": "team", "team": "999999"}, "team", "that team does not exist (any more); choose one from the list"),
        ({"threshold": ""}, "threshold", "say the target, e.g. 4h, 95 or 200"),
        ({"threshold": "soon"}, "threshold", "&#x27;soon&#x27; is not a duration; write e.g. 4h, 90m or 1h 30m"),
        ({"threshold": "0m"}, "threshold", "must be longer than zero"),
        ({"threshold": "4", "bare_unit": "days"}, "bare_unit", "days is not a unit; choose hours or minutes"),
        ({"at_risk_band": "5h"}, "at_risk_band", "must be at most 4 h: the room between the threshold and the limit"),
        ({"kpi": "csat", "threshold": "120"}, "threshold", "is a percentage: at most 100"),
        ({"direction": "at_least"}, "direction", "First reply 90th percentile (business hours): lower is better, "
         "so its target is at most"),
        ({"notes": "x" * 2001}, "notes", "Ensure this value has at most 2000 characters (it has 2001)."),
    ],
)  # fmt: skip
def test_a_mistake_is_refused_with_422_next_to_its_field(
    manager: Client, changes: dict[str, Any], field_name: str, problem: str
) -> None:
    response = manager.post(reverse("targets:new"), _valid(**changes))
    assert response.status_code == 422
    body = response.content.decode()
    assert _error(body, field_name, problem), body[body.find('class="error"') - 200 :][:600]
    assert 'aria-invalid="true"' in body.split(f'name="{field_name}"')[1].split(">")[0]
    assert not KpiTarget.objects.exists()


def test_an_agent_who_is_not_staff_cannot_be_chosen(manager: Client) -> None:
    customer = factories.customer_user()
    response = manager.post(reverse("targets:new"), _valid(scope="agent", agent=customer.pk))
    assert response.status_code == 422
    assert _error(
        response.content.decode(), "agent", "that agent does not exist or is deactivated; choose one from the list"
    )


def test_a_second_target_for_the_same_kpi_and_scope_is_refused(manager: Client) -> None:
    targets.create_target(kpi="first_reply_p90_business", threshold=4 * HOUR)
    response = manager.post(reverse("targets:new"), _valid(threshold="3h", notes="again"))
    assert response.status_code == 422
    body = response.content.decode()
    assert _error(
        body, "kpi", "there is already a First reply 90th percentile (business hours) target for the whole desk; "
        "edit that one",
    )  # fmt: skip
    assert 'value="3h"' in body  # what was typed is kept
    assert KpiTarget.objects.count() == 1


def test_a_link_can_fill_in_a_new_target(manager: Client) -> None:
    team = factories.team()
    body = manager.get(reverse("targets:new") + f"?kpi=csat&team={team.pk}").content.decode()
    assert '<option value="csat" selected>' in body
    assert 'value="team" id="id_scope_1" required checked' in body
    assert f'<option value="{team.pk}" selected>' in body
    # Nonsense in the link is ignored, not an error.
    assert manager.get(reverse("targets:new") + "?kpi=<b>&team=x").status_code == 200


# --- changing and deleting ----------------------------------------------------------------------


def test_edit_shows_the_target_in_human_units_and_saves(manager: Client) -> None:
    team = factories.team()
    target = targets.create_target(kpi="first_reply_p90_business", threshold=4 * HOUR, team=team, notes="Q3")
    url = reverse("targets:edit", args=[target.pk])
    page = manager.get(url).content.decode()
    assert 'value="4 h"' in page
    assert 'value="24 min"' in page
    assert 'value="team" id="id_scope_1" required checked' in page
    assert "Target: at most 4 h (business) — at risk from 3 h 36 min" in page

    # What the page shows reads back unchanged.
    same = _valid(scope="team", team=team.pk, threshold="4 h", at_risk_band="24 min", notes="Q3")
    assert manager.post(url, same).status_code == 302
    target.refresh_from_db()
    assert (target.threshold, target.at_risk_band) == (4 * HOUR, 24 * 60)

    refused = manager.post(url, {**same, "threshold": "a while"})
    assert refused.status_code == 422
    saved = manager.post(url, {**same, "threshold": "3h", "at_risk_band": "", "notes": "Tighter from Q4"})
    assert saved.status_code == 302
    target.refresh_from_db()
    assert (target.threshold, target.at_risk_band, target.notes) == (3 * HOUR, 18 * 60, "Tighter from Q4")
    assert KpiTarget.objects.count() == 1


def test_delete_is_a_post_and_says_what_went(manager: Client) -> None:
    target = targets.create_target(kpi="csat", threshold=90)
    url = reverse("targets:delete", args=[target.pk])
    assert manager.get(url).status_code == 405
    response = manager.post(url, follow=True)
    assert not KpiTarget.objects.exists()
    assert "Deleted the CSAT target for the whole desk (at least 90 %)." in response.content.decode()
    assert manager.post(url).status_code == 404


def test_an_unknown_target_is_a_404(manager: Client) -> None:
    assert manager.get(reverse("targets:edit", args=[999])).status_code == 404
    assert manager.post(reverse("targets:edit", args=[999]), _valid()).status_code == 404


# --- who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"), [(Role.AGENT, 404), (Role.COLLABORATOR, 404), (Role.MANAGER, 200), (Role.ADMIN, 200)]
)
def test_only_managers_and_admins_open_the_pages(role: str, status: int) -> None:
    target = targets.create_target(kpi="csat", threshold=90)
    client = client_for(factories.user(role))
    for url in (reverse("targets:list"), reverse("targets:new"), reverse("targets:edit", args=[target.pk])):
        assert client.get(url).status_code == status, url
    assert client_for(factories.customer_user()).get(reverse("targets:list")).status_code == 404
    anonymous = client_for(None).get(reverse("targets:list"))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/signin?next=")


@pytest.mark.parametrize("role", [Role.AGENT, Role.COLLABORATOR, Role.CUSTOMER, None])
def test_others_change_nothing(role: str | None) -> None:
    target = targets.create_target(kpi="csat", threshold=90)
    user = None if role is None else factories.customer_user() if role == Role.CUSTOMER else factories.user(role)
    client = client_for(user)
    client.post(reverse("targets:new"), _valid())
    client.post(reverse("targets:edit", args=[target.pk]), _valid(kpi="csat", threshold="50"))
    client.post(reverse("targets:delete", args=[target.pk]))
    assert list(KpiTarget.objects.values_list("kpi", "threshold")) == [("csat", 90)]
