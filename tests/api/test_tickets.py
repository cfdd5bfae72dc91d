"""/api/v1/tickets: create, list (filters, search, cursor pagination), detail, change (ETag /
If-Match), messages, events, merge, split, links, and /api/v1/attachments downloads."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from deskpilot.accounts.models import Role
from deskpilot.customers.models import Customer
from deskpilot.tickets import actions
from deskpilot.tickets.models import (
    Attachment,
    CustomField,
    LinkKind,
    Message,
    Ticket,
    TicketEvent,
    TicketLink,
    Via,
)
from tests import factories
from tests.api.conftest import Api, b64, caller, errors_of

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


# --- create ------------------------------------------------------------------------------------


def test_create_ticket_with_everything(agent_api: Api) -> None:
    team = factories.team(members=[agent_api.user])  # type: ignore[list-item]
    CustomField.objects.create(key="plan", label="Plan", kind="dropdown", choices=["free", "pro"])
    response = agent_api.post(
        "/tickets",
        {
            "subject": "  Printer   on fire ",
            "body": "It is smoking.\n\nPlease help.",
            "requester": {"email": "Pat@Example.TEST", "name": "Pat Doe"},
            "priority": "high",
            "type": "incident",
            "team_id": team.pk,
            "tags": ["Hardware", "billing issue", "hardware"],
            "custom_fields": {"plan": "pro"},
            "cc": [{"email": "boss@example.test", "name": "The Boss"}],
            "attachments": [{"filename": "photo.png", "content_base64": b64(PNG)}],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    ticket = Ticket.objects.get(pk=body["id"])
    assert response["ETag"] == f'"{ticket.pk}-{ticket.version}"'
    assert body["number"] == body["id"] == ticket.pk
    assert body["subject"] == "Printer on fire"
    assert (body["status"], body["priority"], body["type"], body["channel"]) == ("new", "high", "incident", "api")
    assert body["requester"]["name"] == "Pat Doe"
    assert body["requester"]["email"] == "Pat@example.test"
    assert body["team"] == {"id": team.pk, "name": team.name}
    assert body["assignee"] is None
    assert body["tags"] == ["billing-issue", "hardware"]
    assert body["custom_fields"] == {"plan": "pro"}
    assert [c["email"] for c in body["ccs"]] == ["boss@example.test"]
    assert body["version"] == ticket.version == 1
    [message] = body["messages"]
    assert message["public"] is True
    assert message["author"] == {"kind": "user", "id": agent_api.user.pk, "name": agent_api.user.name}  # type: ignore[union-attr]
    assert message["body_text"] == "It is smoking.\n\nPlease help."
    assert message["body_html"] == "<p>It is smoking.</p><p>Please help.</p>"
    [attachment] = message["attachments"]
    assert attachment["filename"] == "photo.png"
    assert attachment["content_type"] == "image/png"
    assert attachment["size"] == len(PNG)
    assert attachment["url"] == f"/api/v1/attachments/{attachment['id']}"
    assert agent_api.get(attachment["url"]).getvalue() == PNG
    assert list(ticket.events.values_list("field", flat=True)) == ["created", "message"]


def test_create_with_assignee_starts_open(agent_api: Api) -> None:
    response = agent_api.post(
        "/tickets",
        {"subject": "s", "body": "b", "requester": {"email": "a@x.test"}, "assignee_id": agent_api.user.pk},  # type: ignore[union-attr]
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "open"
    assert response.json()["assignee"]["id"] == agent_api.user.pk  # type: ignore[union-attr]


def test_create_for_an_existing_customer_by_id_or_by_email_in_any_case(agent_api: Api) -> None:
    known = factories.customer(email="known@example.test")
    by_id = agent_api.post("/tickets", {"subject": "s", "body": "b", "requester_id": known.pk})
    by_email = agent_api.post("/tickets", {"subject": "s", "body": "b", "requester": {"email": "KNOWN@example.TEST"}})
    assert by_id.json()["requester"]["id"] == by_email.json()["requester"]["id"] == known.pk
    assert Customer.objects.count() == 1


def test_create_needs_a_requester(agent_api: Api) -> None:
    response = agent_api.post("/tickets", {"subject": "s", "body": "b"})
    assert response.status_code == 422
    assert set(errors_of(response)) == {"requester"}
    response = agent_api.post("/tickets", {"subject": "s", "body": "b", "requester_id": 999_999})
    assert response.status_code == 422
    assert set(errors_of(response)) == {"requester_id"}


def test_internal_first_message(agent_api: Api) -> None:
    response = agent_api.post(
        "/tickets", {"subject": "s", "body": "phoned in", "public": False, "requester": {"email": "a@x.test"}}
    )
    assert response.status_code == 201
    assert response.json()["messages"][0]["public"] is False


def test_customer_creates_tickets_only_for_themselves() -> None:
    customer = caller(Role.CUSTOMER, email="me@example.test")
    mine = customer.post("/tickets", {"subject": "Help", "body": "please"})
    assert mine.status_code == 201, mine.content
    assert mine.json()["requester"]["email"] == "me@example.test"
    also_mine = customer.post(
        "/tickets", {"subject": "Help", "body": "please", "requester": {"email": "ME@example.test"}}
    )
    assert also_mine.status_code == 201
    for body in (
        {"requester": {"email": "someone@example.test"}},
        {"requester_id": factories.customer().pk},
    ):
        response = customer.post("/tickets", {"subject": "Help", "body": "please", **body})
        assert response.status_code == 422
        assert set(errors_of(response)) == {"requester"}


@pytest.mark.parametrize(
    ("field", "value", "reported"),
    [
        ("status", "open", "status"),
        ("tags", ["vip"], "tags"),
        ("team_id", None, "team_id"),
        ("assignee_id", None, "assignee_id"),
    ],
)
def test_customer_cannot_set_status_team_assignee_or_tags(field: str, value: Any, reported: str) -> None:
    customer = caller(Role.CUSTOMER)
    agent = factories.user(Role.AGENT)
    if field == "team_id":
        value = factories.team(members=[agent]).pk
    if field == "assignee_id":
        value = agent.pk
    before = Ticket.objects.count()
    response = customer.post("/tickets", {"subject": "Help", "body": "please", field: value})
    assert response.status_code == 422
    assert set(errors_of(response)) == {reported}
    assert Ticket.objects.count() == before


# --- list: filters -----------------------------------------------------------------------------


@pytest.fixture
def listing() -> dict[str, Any]:
    """A small help desk: several tickets differing in every filterable field."""
    agent = factories.user(Role.AGENT)
    other_agent = factories.user(Role.AGENT)
    team = factories.team(members=[agent, other_agent])
    org = factories.organization(domains=["acme.test"])
    acme_customer = factories.customer(email="ann@acme.test")
    solo = factories.customer(email="solo@example.test")
    t0 = datetime.datetime(2026, 1, 10, 9, tzinfo=datetime.UTC)
    tickets = {
        "new_low": factories.ticket(requester=solo, priority="low", type="question", at=t0, subject="Printer jam"),
        "open_high": factories.ticket(
            requester=acme_customer, actor=agent, priority="high", type="incident", team=team, assignee=agent,
            tags=["vip", "Billing"], at=t0 + datetime.timedelta(days=1), subject="Invoice wrong",
        ),
        "pending_urgent": factories.ticket(
            requester=acme_customer, actor=agent, priority="urgent", type="problem", assignee=other_agent,
            channel="email", via=Via.EMAIL, at=t0 + datetime.timedelta(days=2), subject="Server down",
        ),
        "solved_normal": factories.ticket(
            requester=solo, actor=agent, type="task", team=team, tags=["vip"], channel="phone",
            at=t0 + datetime.timedelta(days=3), subject="Set up account",
        ),
    }  # fmt: skip
    actions.update_ticket(
        tickets["pending_urgent"], actor=agent, via=Via.WEB, changes={"status": "pending"},
        at=t0 + datetime.timedelta(days=5),
    )  # fmt: skip
    actions.update_ticket(
        tickets["solved_normal"], actor=agent, via=Via.WEB, changes={"status": "solved"},
        at=t0 + datetime.timedelta(days=6),
    )  # fmt: skip
    actions.add_message(
        tickets["new_low"], actor=agent, via=Via.WEB, public=False, body_text="Secret: toner supplier is Tonerco"
    )
    return {
        "tickets": {k: t.pk for k, t in tickets.items()},
        "agent": agent,
        "other_agent": other_agent,
        "team": team,
        "org": org,
        "acme_customer": acme_customer,
        "solo": solo,
        "t0": t0,
    }


def _names(listing: dict[str, Any], response: Any) -> set[str]:
    by_id = {v: k for k, v in listing["tickets"].items()}
    return {by_id[i] for i in ids(response)}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"new_low", "open_high", "pending_urgent", "solved_normal"}),
        ({"status": "open"}, {"open_high"}),
        ({"status": "open,pending"}, {"open_high", "pending_urgent"}),
        ({"status": ["new", "solved"]}, {"new_low", "solved_normal"}),
        ({"priority": "urgent"}, {"pending_urgent"}),
        ({"priority": "low,high"}, {"new_low", "open_high"}),
        ({"type": "task"}, {"solved_normal"}),
        ({"type": ["incident", "problem"]}, {"open_high", "pending_urgent"}),
        ({"channel": "email"}, {"pending_urgent"}),
        ({"channel": "phone,api"}, {"solved_normal", "new_low", "open_high"}),
        ({"assignee": "none"}, {"new_low", "solved_normal"}),
        ({"team": "none"}, {"new_low", "pending_urgent"}),
        ({"tag": "vip"}, {"open_high", "solved_normal"}),
        ({"tag": "VIP,billing"}, {"open_high"}),
        ({"tag": ["vip", "billing"]}, {"open_high"}),
        ({"tag": "nope"}, set()),
        ({"status": "solved", "tag": "vip", "team": "none"}, set()),
        ({"q": "printer"}, {"new_low"}),
        ({"q": "tonerco"}, {"new_low"}),
        ({"q": "!!!"}, set()),
    ],
)
def test_list_filters(listing: dict[str, Any], params: dict[str, Any], expected: set[str]) -> None:
    api = caller(Role.AGENT)
    assert _names(listing, api.get("/tickets", params)) == expected


def test_filter_by_assignee_me_and_id(listing: dict[str, Any]) -> None:
    me = Api(factories.token(listing["agent"]), user=listing["agent"])
    assert _names(listing, me.get("/tickets", {"assignee": "me"})) == {"open_high"}
    assert _names(listing, me.get("/tickets", {"assignee": str(listing["other_agent"].pk)})) == {"pending_urgent"}


def test_filter_by_team_requester_and_organization(listing: dict[str, Any]) -> None:
    api = caller(Role.AGENT)
    assert _names(listing, api.get("/tickets", {"team": listing["team"].pk})) == {"open_high", "solved_normal"}
    assert _names(listing, api.get("/tickets", {"requester": listing["solo"].pk})) == {"new_low", "solved_normal"}
    # ann@acme.test joined the organization that claims acme.test, and so did her tickets.
    assert _names(listing, api.get("/tickets", {"organization": listing["org"].pk})) == {
        "open_high",
        "pending_urgent",
    }


def test_filter_by_tag_as_written_when_tagging(listing: dict[str, Any]) -> None:
    api = caller(Role.AGENT)
    actions.update_ticket(
        Ticket.objects.get(pk=listing["tickets"]["new_low"]),
        actor=listing["agent"],
        via=Via.WEB,
        changes={"add_tags": ["Billing Issue"]},
    )
    # Tagged as "Billing Issue" (stored billing-issue): the filter finds it the way it was written.
    assert _names(listing, api.get("/tickets", {"tag": "Billing Issue"})) == {"new_low"}


def test_filter_by_created_and_updated_ranges(listing: dict[str, Any]) -> None:
    api = caller(Role.AGENT)
    t0: datetime.datetime = listing["t0"]
    day = datetime.timedelta(days=1)
    window = {"created_after": (t0 + day).isoformat(), "created_before": (t0 + 3 * day).isoformat()}
    assert _names(listing, api.get("/tickets", window)) == {"open_high", "pending_urgent"}
    assert _names(listing, api.get("/tickets", {"updated_after": (t0 + 5 * day).isoformat()})) == {
        "pending_urgent",
        "solved_normal",
        "new_low",  # the internal note was added now
    }
    assert _names(listing, api.get("/tickets", {"updated_before": (t0 + 2 * day).isoformat()})) == {"open_high"}
    # Offsets other than UTC mean the same instant.
    berlin = datetime.timezone(datetime.timedelta(hours=1))
    assert _names(listing, api.get("/tickets", {"created_before": (t0 + day).astimezone(berlin).isoformat()})) == {
        "new_low"
    }


def test_customer_search_never_matches_internal_notes(listing: dict[str, Any]) -> None:
    solo = factories.user(Role.CUSTOMER, email="solo@example.test")
    customer = Api(factories.token(solo), user=solo)
    assert _names(listing, customer.get("/tickets")) == {"new_low", "solved_normal"}
    assert _names(listing, customer.get("/tickets", {"q": "printer"})) == {"new_low"}
    assert _names(listing, customer.get("/tickets", {"q": "tonerco"})) == set()
    assert _names(listing, customer.get("/tickets", {"q": '"toner supplier"'})) == set()
    assert _names(listing, customer.get("/tickets", {"q": "printer -tonerco"})) == {"new_low"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "bogus"}, "status"),
        ({"status": "open,bogus"}, "status"),
        ({"priority": "huge"}, "priority"),
        ({"type": "rant"}, "type"),
        ({"channel": "pigeon"}, "channel"),
        ({"assignee": "someone"}, "assignee"),
        ({"team": "me"}, "team"),
        ({"requester": "abc"}, "requester"),
        ({"organization": "abc"}, "organization"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_after": "2026-01-01T00:00:00"}, "created_after"),
        ({"updated_before": "2026-01-01T00:00:00"}, "updated_before"),
        ({"q": "   "}, "q"),
        ({"sort": "subject"}, "sort"),
        ({"sort": "-priority"}, "sort"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": -5}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "garbage"}, "cursor"),
        ({"cursor": "eyJub3QiOiAiYSBjdXJzb3IifQ"}, "cursor"),
    ],
)
def test_bad_list_parameters_are_field_errors(agent_api: Api, params: dict[str, Any], field: str) -> None:
    factories.ticket()
    response = agent_api.get("/tickets", params)
    assert response.status_code == 422, response.content
    assert set(errors_of(response)) == {field}


# --- list: cursor pagination -------------------------------------------------------------------


@pytest.fixture
def many_tickets() -> list[int]:
    agent = factories.user(Role.AGENT)
    t0 = datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC)
    created = []
    for i in range(13):
        # Timestamps repeat in threes, so the id tie-breaker decides inside each group.
        created.append(factories.ticket(at=t0 + datetime.timedelta(minutes=i // 3)))
    for i, ticket in enumerate(created):
        if i % 2:
            actions.update_ticket(
                ticket,
                actor=agent,
                via=Via.WEB,
                changes={"priority": "high"},
                at=t0 + datetime.timedelta(hours=1, minutes=(i % 4)),
            )
    return [t.pk for t in created]


def walk(api: Api, params: dict[str, Any]) -> list[int]:
    seen: list[int] = []
    cursor = None
    for _ in range(50):
        page = api.get("/tickets", {**params, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.content
        body = page.json()
        assert len(body["items"]) <= params.get("limit", 25)
        seen.extend(item["id"] for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
        assert body["items"], "a next cursor after an empty page"
    raise AssertionError("pagination did not end")


SORTS = {
    "-id": lambda t: (-t.pk,),
    "id": lambda t: (t.pk,),
    "-updated_at": lambda t: (-t.updated_at.timestamp(), -t.pk),
    "updated_at": lambda t: (t.updated_at.timestamp(), t.pk),
    "created_at": lambda t: (t.created_at.timestamp(), t.pk),
    "-created_at": lambda t: (-t.created_at.timestamp(), -t.pk),
}


@pytest.mark.parametrize("sort", list(SORTS))
@pytest.mark.parametrize("limit", [2, 100])
def test_walking_all_pages_yields_every_ticket_once_in_order(
    agent_api: Api, many_tickets: list[int], sort: str, limit: int
) -> None:
    seen = walk(agent_api, {"sort": sort, "limit": limit})
    assert len(seen) == len(set(seen)), "duplicates across pages"
    assert set(seen) == set(many_tickets), "gaps across pages"
    expected = [t.pk for t in sorted(Ticket.objects.all(), key=SORTS[sort])]
    assert seen == expected


def test_pagination_with_filters(agent_api: Api, many_tickets: list[int]) -> None:
    seen = walk(agent_api, {"priority": "high", "limit": 2, "sort": "updated_at"})
    assert sorted(seen) == sorted(many_tickets[1::2])


def test_a_cursor_belongs_to_its_sort_order(agent_api: Api, many_tickets: list[int]) -> None:
    cursor = agent_api.get("/tickets", {"limit": 2, "sort": "-updated_at"}).json()["next_cursor"]
    assert cursor
    response = agent_api.get("/tickets", {"limit": 2, "sort": "-id", "cursor": cursor})
    assert response.status_code == 422
    assert set(errors_of(response)) == {"cursor"}


def test_pages_do_not_repeat_when_tickets_arrive_between_pages(agent_api: Api, many_tickets: list[int]) -> None:
    first = agent_api.get("/tickets", {"limit": 5})
    factories.ticket()
    rest = walk(agent_api, {"limit": 5, "cursor": first.json()["next_cursor"]})
    combined = ids(first) + rest
    assert len(combined) == len(set(combined)) == len(many_tickets)


# --- detail, ETag and If-Match -----------------------------------------------------------------


def test_get_ticket_has_an_etag_that_changes_with_each_write(agent_api: Api) -> None:
    ticket = factories.ticket()
    first = agent_api.get(f"/tickets/{ticket.pk}")
    assert first.status_code == 200
    assert first["ETag"] == f'"{ticket.pk}-1"'
    changed = agent_api.patch(f"/tickets/{ticket.pk}", {"priority": "high"}, headers={"If-Match": first["ETag"]})
    assert changed.status_code == 200, changed.content
    assert changed["ETag"] == f'"{ticket.pk}-2"'
    assert changed.json()["version"] == 2
    assert agent_api.get(f"/tickets/{ticket.pk}")["ETag"] == changed["ETag"]


def test_unknown_ticket_is_404(agent_api: Api) -> None:
    response = agent_api.get("/tickets/999999")
    assert response.status_code == 404
    assert errors_of(response) == {}


@pytest.mark.parametrize("if_match", ["stale", "W/stale", "other-ticket", "garbage", '"abc"'])
def test_stale_if_match_is_412_and_writes_nothing(agent_api: Api, if_match: str) -> None:
    ticket = factories.ticket()
    etag = agent_api.get(f"/tickets/{ticket.pk}")["ETag"]
    agent_api.patch(f"/tickets/{ticket.pk}", {"type": "task"})  # someone else's change
    header = {
        "stale": etag,
        "W/stale": "W/" + etag,
        "other-ticket": f'"{ticket.pk + 1}-2"',
        "garbage": "nonsense",
        '"abc"': '"abc"',
    }[if_match]
    before = (
        Ticket.objects.get(pk=ticket.pk).version,
        TicketEvent.objects.count(),
        Customer.objects.count(),
    )
    response = agent_api.patch(
        f"/tickets/{ticket.pk}",
        {"priority": "urgent", "tags": ["late"], "cc": [{"email": "new-person@example.test"}]},
        headers={"If-Match": header},
    )
    assert response.status_code == 412, response.content
    errors_of(response)
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert fresh.priority == "normal"
    assert list(fresh.tags.all()) == []
    assert (fresh.version, TicketEvent.objects.count(), Customer.objects.count()) == before


def test_if_match_current_weak_or_star_is_accepted(agent_api: Api) -> None:
    ticket = factories.ticket()
    etag = agent_api.get(f"/tickets/{ticket.pk}")["ETag"]
    assert (
        agent_api.patch(f"/tickets/{ticket.pk}", {"priority": "low"}, headers={"If-Match": "W/" + etag}).status_code
        == 200
    )
    assert agent_api.patch(f"/tickets/{ticket.pk}", {"priority": "high"}, headers={"If-Match": "*"}).status_code == 200
    assert Ticket.objects.get(pk=ticket.pk).priority == "high"


def test_patch_null_versus_absent(agent_api: Api) -> None:
    agent = agent_api.user
    team = factories.team(members=[agent])  # type: ignore[list-item]
    CustomField.objects.create(key="plan", label="Plan", kind="text")
    CustomField.objects.create(key="seats", label="Seats", kind="number")
    org = factories.organization()
    ticket = factories.ticket(
        actor=agent, team=team, assignee=agent, tags=["a"], organization=org, custom_fields={"plan": "pro", "seats": 3}
    )
    url = f"/tickets/{ticket.pk}"
    version = Ticket.objects.get(pk=ticket.pk).version

    # Absent fields are untouched, and a change to nothing records nothing.
    nothing = agent_api.patch(url, {})
    assert nothing.status_code == 200
    assert nothing.json()["version"] == version
    same = agent_api.patch(url, {"priority": "normal", "tags": ["a"]})
    assert same.json()["version"] == version

    # null clears what may be empty...
    cleared = agent_api.patch(url, {"assignee_id": None, "custom_fields": {"plan": None}})
    assert cleared.status_code == 200, cleared.content
    body = cleared.json()
    assert body["assignee"] is None
    assert body["team"]["id"] == team.pk
    assert body["custom_fields"] == {"seats": 3}
    assert body["tags"] == ["a"]
    assert body["organization"]["id"] == org.pk
    body = agent_api.patch(url, {"team_id": None, "organization_id": None}).json()
    assert body["team"] is None
    assert body["organization"] is None

    # ...and is an error for what may not.
    for field in ("subject", "status", "priority", "type", "tags", "requester_id"):
        response = agent_api.patch(url, {field: None})
        assert response.status_code == 422, field
        assert set(errors_of(response)) == {field}
    assert Ticket.objects.get(pk=ticket.pk).subject == ticket.subject


def test_patch_fields(agent_api: Api) -> None:
    agent = agent_api.user
    collaborator = factories.user(Role.COLLABORATOR)
    other_customer = factories.customer()
    ticket = factories.ticket(tags=[], requester=factories.customer())
    response = agent_api.patch(
        f"/tickets/{ticket.pk}",
        {
            "subject": "New subject",
            "status": "pending",
            "priority": "urgent",
            "type": "problem",
            "assignee_id": agent.pk,  # type: ignore[union-attr]
            "add_tags": ["one", "two"],
            "cc": [{"email": "cc@example.test"}],
            "follower_ids": [collaborator.pk],
            "requester_id": other_customer.pk,
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["subject"], body["status"], body["priority"], body["type"]) == (
        "New subject",
        "pending",
        "urgent",
        "problem",
    )
    assert body["tags"] == ["one", "two"]
    assert [c["email"] for c in body["ccs"]] == ["cc@example.test"]
    assert [f["id"] for f in body["followers"]] == [collaborator.pk]
    assert body["requester"]["id"] == other_customer.pk
    body = agent_api.patch(f"/tickets/{ticket.pk}", {"remove_tags": ["one"], "add_tags": ["three"]}).json()
    assert body["tags"] == ["three", "two"]
    body = agent_api.patch(f"/tickets/{ticket.pk}", {"tags": []}).json()
    assert body["tags"] == []
    fields = set(TicketEvent.objects.filter(ticket=ticket).values_list("field", flat=True))
    assert {"subject", "status", "priority", "type", "assignee", "tags", "ccs", "followers", "requester"} <= fields


@pytest.mark.parametrize(
    ("start", "target"),
    [("open", "closed"), ("open", "new"), ("pending", "closed"), ("open", "bogus")],
)
def test_impossible_status_changes(agent_api: Api, start: str, target: str) -> None:
    ticket = factories.ticket()
    agent_api.patch(f"/tickets/{ticket.pk}", {"status": start})
    response = agent_api.patch(f"/tickets/{ticket.pk}", {"status": target})
    assert response.status_code == 422
    assert set(errors_of(response)) == {"status"}
    assert Ticket.objects.get(pk=ticket.pk).status == start


def test_solved_then_closed_then_frozen(agent_api: Api) -> None:
    ticket = factories.ticket()
    assert agent_api.patch(f"/tickets/{ticket.pk}", {"status": "solved"}).json()["solved_at"]
    closed = agent_api.patch(f"/tickets/{ticket.pk}", {"status": "closed"}).json()
    assert closed["status"] == "closed"
    assert closed["closed_at"]
    response = agent_api.patch(f"/tickets/{ticket.pk}", {"priority": "high"})
    assert response.status_code == 422


# --- messages ----------------------------------------------------------------------------------


def test_public_reply_with_status_and_attachment(agent_api: Api) -> None:
    ticket = factories.ticket()
    response = agent_api.post(
        f"/tickets/{ticket.pk}/messages",
        {
            "body": "Could you send a screenshot?",
            "status": "pending",
            "attachments": [{"filename": "guide.txt", "content_type": "text/plain", "content_base64": b64(b"steps")}],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["ticket_id"] == ticket.pk
    assert body["public"] is True
    assert body["author"]["kind"] == "user"
    assert body["via"] == "api"
    assert body["attachments"][0]["content_type"] == "text/plain"
    ticket.refresh_from_db()
    assert ticket.status == "pending"
    assert Message.objects.filter(ticket=ticket).count() == 2


def test_public_reply_opens_a_new_ticket_but_an_internal_note_does_not(agent_api: Api) -> None:
    ticket = factories.ticket()
    note = agent_api.post(f"/tickets/{ticket.pk}/messages", {"body": "checking logs", "public": False})
    assert note.status_code == 201
    assert note.json()["public"] is False
    assert Ticket.objects.get(pk=ticket.pk).status == "new"
    agent_api.post(f"/tickets/{ticket.pk}/messages", {"body": "On it."})
    assert Ticket.objects.get(pk=ticket.pk).status == "open"


def test_reply_cannot_send_a_ticket_back_to_new(agent_api: Api) -> None:
    ticket = factories.ticket()
    agent_api.patch(f"/tickets/{ticket.pk}", {"status": "open"})
    response = agent_api.post(f"/tickets/{ticket.pk}/messages", {"body": "hm", "status": "new"})
    assert response.status_code == 422
    assert set(errors_of(response)) == {"status"}
    assert Ticket.objects.get(pk=ticket.pk).status == "open"
    assert Message.objects.filter(ticket=ticket).count() == 1


def test_customer_reply_reopens_and_cannot_set_status() -> None:
    customer = caller(Role.CUSTOMER)
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket(requester=customer.user.customer)  # type: ignore[union-attr]
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": "pending"})
    response = customer.post(f"/tickets/{ticket.pk}/messages", {"body": "Here it is"})
    assert response.status_code == 201
    assert response.json()["author"]["kind"] == "customer"
    assert Ticket.objects.get(pk=ticket.pk).status == "open"
    response = customer.post(f"/tickets/{ticket.pk}/messages", {"body": "Solved!", "status": "solved"})
    assert response.status_code == 422
    assert set(errors_of(response)) == {"status"}


def test_customer_reply_to_a_closed_ticket_opens_a_follow_up() -> None:
    customer = caller(Role.CUSTOMER)
    agent = Api(factories.token(factories.user(Role.AGENT)))
    ticket = factories.ticket(requester=customer.user.customer)  # type: ignore[union-attr]
    agent.patch(f"/tickets/{ticket.pk}", {"status": "solved"})
    agent.patch(f"/tickets/{ticket.pk}", {"status": "closed"})
    response = customer.post(f"/tickets/{ticket.pk}/messages", {"body": "Broken again"})
    assert response.status_code == 201
    follow_up = response.json()["ticket_id"]
    assert follow_up != ticket.pk
    assert TicketLink.objects.filter(source_id=follow_up, target=ticket, kind=LinkKind.FOLLOW_UP).exists()
    assert customer.get(f"/tickets/{follow_up}").status_code == 200
    # An agent cannot write on a closed ticket.
    refused = agent.post(f"/tickets/{ticket.pk}/messages", {"body": "late"})
    assert refused.status_code == 422
    assert set(errors_of(refused)) == {"ticket"}


@pytest.mark.parametrize(
    "body", [{}, {"body": "   "}, {"body_html": "<script>x</script>"}, {"body": "", "body_html": ""}]
)
def test_a_message_needs_a_body(agent_api: Api, body: dict[str, Any]) -> None:
    ticket = factories.ticket()
    response = agent_api.post(f"/tickets/{ticket.pk}/messages", body)
    assert response.status_code == 422
    assert set(errors_of(response)) == {"body"}
    assert Message.objects.filter(ticket=ticket).count() == 1


def test_message_on_unknown_ticket_is_404(agent_api: Api) -> None:
    assert agent_api.post("/tickets/999999/messages", {"body": "x"}).status_code == 404


# --- events ------------------------------------------------------------------------------------


def test_events_are_the_full_history_for_staff_and_the_public_part_for_customers() -> None:
    customer = caller(Role.CUSTOMER)
    agent = factories.user(Role.AGENT)
    staff = Api(factories.token(agent), user=agent)
    ticket = factories.ticket(requester=customer.user.customer, tags=[])  # type: ignore[union-attr]
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"assignee": agent, "tags": ["secret-tag"]})
    note = actions.add_message(ticket, actor=agent, via=Via.WEB, public=False, body_text="internal")
    reply = actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="public", status="pending")

    staff_events = staff.get(f"/tickets/{ticket.pk}/events").json()
    assert [e["field"] for e in staff_events] == [
        "created",
        "message",
        "assignee",
        "tags",
        "message",
        "message",
        "status",
    ]
    assert staff_events[0]["new"]["tags"] == []
    assert staff_events[2] | {"id": 0, "created_at": ""} == {
        "id": 0,
        "field": "assignee",
        "old": None,
        "new": agent.pk,
        "actor": {"kind": "user", "id": agent.pk, "name": agent.name},
        "via": "web",
        "message_id": None,
        "created_at": "",
    }

    customer_events = customer.get(f"/tickets/{ticket.pk}/events").json()
    assert [e["field"] for e in customer_events] == ["created", "message", "message", "status"]
    assert {e["message_id"] for e in customer_events if e["field"] == "message"} == {
        ticket.messages.first().pk,  # type: ignore[union-attr]
        reply.pk,
    }
    assert note.pk not in {e["message_id"] for e in customer_events}
    assert set(customer_events[0]["new"]) == {"subject", "status", "priority", "type", "channel"}


# --- merge, split, links -----------------------------------------------------------------------


def test_merge(agent_api: Api) -> None:
    source = factories.ticket(tags=[], subject="dup")
    target = factories.ticket(tags=[])
    agent_api.patch(f"/tickets/{source.pk}", {"tags": ["from-source"], "cc": [{"email": "cc@example.test"}]})
    moved = list(source.messages.values_list("pk", flat=True))
    response = agent_api.post(f"/tickets/{source.pk}/merge", {"into_id": target.pk})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == target.pk
    assert set(moved) <= {m["id"] for m in body["messages"]}
    assert body["tags"] == ["from-source"]
    assert {c["id"] for c in body["ccs"]} >= {source.requester_id}
    assert {"kind": "merged_into", "direction": "in", "ticket_id": source.pk, "subject": "dup"} in body["links"]
    merged = agent_api.get(f"/tickets/{source.pk}").json()
    assert merged["status"] == "closed"
    assert merged["links"] == [
        {"kind": "merged_into", "direction": "out", "ticket_id": target.pk, "subject": target.subject}
    ]


@pytest.mark.parametrize("closed", ["source", "target"])
def test_merging_a_closed_ticket_is_refused(agent_api: Api, closed: str) -> None:
    tickets = {"source": factories.ticket(), "target": factories.ticket()}
    agent_api.patch(f"/tickets/{tickets[closed].pk}", {"status": "solved"})
    agent_api.patch(f"/tickets/{tickets[closed].pk}", {"status": "closed"})
    response = agent_api.post(f"/tickets/{tickets['source'].pk}/merge", {"into_id": tickets["target"].pk})
    assert response.status_code == 422
    assert set(errors_of(response)) == {"ticket_id" if closed == "source" else "into_id"}
    assert Message.objects.filter(ticket=tickets["source"]).count() == 1


def test_merge_into_itself_or_nowhere(agent_api: Api) -> None:
    ticket = factories.ticket()
    for into in (ticket.pk, 999_999):
        response = agent_api.post(f"/tickets/{ticket.pk}/merge", {"into_id": into})
        assert response.status_code == 422
        assert set(errors_of(response)) == {"into_id"}


def test_split(agent_api: Api) -> None:
    ticket = factories.ticket()
    agent_api.post(f"/tickets/{ticket.pk}/messages", {"body": "first answer"})
    question = actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text="Another question")
    response = agent_api.post(f"/tickets/{ticket.pk}/split", {"message_ids": [question.pk], "subject": "Another"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["subject"] == "Another"
    assert [m["id"] for m in body["messages"]] == [question.pk]
    assert body["links"] == [
        {"kind": "split_from", "direction": "out", "ticket_id": ticket.pk, "subject": ticket.subject}
    ]
    assert Message.objects.filter(ticket=ticket).count() == 2


def test_split_must_leave_a_message_and_name_own_messages(agent_api: Api) -> None:
    ticket = factories.ticket()
    other = factories.ticket()
    only = ticket.messages.get().pk
    for message_ids in ([only], [], [other.messages.get().pk]):
        response = agent_api.post(f"/tickets/{ticket.pk}/split", {"message_ids": message_ids})
        assert response.status_code == 422
        assert set(errors_of(response)) == {"message_ids"}
    assert Ticket.objects.count() == 2


def test_links(agent_api: Api) -> None:
    one, two = factories.ticket(), factories.ticket()
    response = agent_api.post(f"/tickets/{one.pk}/links", {"target_id": two.pk, "kind": "duplicate_of"})
    assert response.status_code == 201, response.content
    assert response.json()["links"] == [
        {"kind": "duplicate_of", "direction": "out", "ticket_id": two.pk, "subject": two.subject}
    ]
    assert agent_api.get(f"/tickets/{two.pk}").json()["links"][0]["direction"] == "in"
    # Linking again changes nothing.
    again = agent_api.post(f"/tickets/{one.pk}/links", {"target_id": two.pk, "kind": "duplicate_of"})
    assert again.status_code == 201
    assert TicketLink.objects.count() == 1
    for payload, field in (
        ({"target_id": one.pk}, "target_id"),
        ({"target_id": 999_999}, "target_id"),
        ({"target_id": two.pk, "kind": "merged_into"}, "kind"),
    ):
        response = agent_api.post(f"/tickets/{one.pk}/links", payload)
        assert response.status_code == 422
        assert set(errors_of(response)) == {field}


# --- attachments -------------------------------------------------------------------------------


def test_attachment_download_headers(agent_api: Api) -> None:
    ticket = factories.ticket()
    message = agent_api.post(
        f"/tickets/{ticket.pk}/messages",
        {
            "body": "see file",
            "attachments": [
                {"filename": "page.html", "content_type": "text/html", "content_base64": b64(b"<script>x</script>")}
            ],
        },
    ).json()
    url = message["attachments"][0]["url"]
    response = agent_api.get(url)
    assert response.status_code == 200
    assert response.getvalue() == b"<script>x</script>"
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="page.html"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]


def test_customers_cannot_download_internal_note_attachments() -> None:
    customer = caller(Role.CUSTOMER)
    agent = caller(Role.AGENT)
    ticket = factories.ticket(requester=customer.user.customer)  # type: ignore[union-attr]
    files = [{"filename": "a.txt", "content_base64": b64(b"secret notes")}]
    internal = agent.post(f"/tickets/{ticket.pk}/messages", {"body": "x", "public": False, "attachments": files}).json()
    public = agent.post(
        f"/tickets/{ticket.pk}/messages",
        {"body": "y", "attachments": [{"filename": "b.txt", "content_base64": b64(b"public")}]},
    ).json()
    internal_url = internal["attachments"][0]["url"]
    assert customer.get(internal_url).status_code == 404
    assert agent.get(internal_url).status_code == 200
    assert customer.get(public["attachments"][0]["url"]).status_code == 200
    # Same bytes, stored once, but the public copy does not open the internal one.
    same = agent.post(f"/tickets/{ticket.pk}/messages", {"body": "again", "attachments": files}).json()["attachments"][
        0
    ]
    assert customer.get(same["url"]).status_code == 200
    assert customer.get(internal_url).status_code == 404


def test_unknown_or_missing_attachment_is_404(agent_api: Api, settings: Any) -> None:
    assert agent_api.get("/attachments/999999").status_code == 404
    ticket = factories.ticket(attachments=[actions.attachment_files.IncomingFile(filename="x.txt", content=b"bytes")])
    attachment = Attachment.objects.get(message__ticket=ticket)
    actions.attachment_files.path_for(attachment.sha256).unlink()
    response = agent_api.get(f"/attachments/{attachment.pk}")
    assert response.status_code == 404
    errors_of(response)
