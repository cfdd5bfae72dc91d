"""Who may call what: every API endpoint, every role, own and other people's objects, with the exact status.

The endpoint list is checked against the NinjaAPI's own URL patterns and OpenAPI schema, so an
endpoint added without a row here fails the suite.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.urls import URLPattern

from deskpilot.accounts.models import Role, TokenScope
from deskpilot.api import api as ninja_api
from deskpilot.customers.models import Customer
from deskpilot.tickets import actions
from deskpilot.tickets.attachments import IncomingFile
from deskpilot.tickets.models import Attachment, Message, Ticket, Via
from tests import factories
from tests.api.conftest import Api, b64, caller, errors_of

pytestmark = pytest.mark.django_db

ROLES = ("admin", "manager", "agent", "collaborator", "customer", "anonymous", "read_only")
AGENTS = ("admin", "manager", "agent")


@dataclass
class World:
    api: dict[str, Api]
    customer: Customer
    stranger: Customer
    tickets: dict[str, Ticket]
    replies: dict[str, Message]
    attachments: dict[str, int]
    ids: dict[str, int]


@pytest.fixture
def world() -> World:
    """One help desk with one caller per role. "own" objects belong to the customer (and the
    collaborator follows those tickets); "other" objects belong to a stranger."""
    admin = factories.user(Role.ADMIN)
    manager = factories.user(Role.MANAGER)
    agent = factories.user(Role.AGENT)
    collaborator = factories.user(Role.COLLABORATOR)
    customer_account = factories.customer_user()
    customer = customer_account.customer
    stranger = factories.customer()
    tickets = {
        "own": factories.ticket(requester=customer),
        "own2": factories.ticket(requester=customer),
        "other": factories.ticket(requester=stranger),
        "other2": factories.ticket(requester=stranger),
    }
    for name in ("own", "own2"):
        actions.update_ticket(tickets[name], actor=agent, via=Via.WEB, changes={"followers": [collaborator]})
    replies, attachments = {}, {}
    for name in ("own", "other"):
        replies[name] = actions.add_message(
            tickets[name],
            actor=agent,
            via=Via.WEB,
            body_text="public reply",
            attachments=[IncomingFile(filename="public.txt", content=f"public {name}".encode())],
        )
        note = actions.add_message(
            tickets[name],
            actor=agent,
            via=Via.WEB,
            public=False,
            body_text="internal note",
            attachments=[IncomingFile(filename="note.txt", content=f"internal {name}".encode())],
        )
        attachments[name] = Attachment.objects.get(message=replies[name]).pk
        attachments[f"{name}_internal"] = Attachment.objects.get(message=note).pk
    people = {
        "admin": admin,
        "manager": manager,
        "agent": agent,
        "collaborator": collaborator,
        "customer": customer_account,
    }
    apis = {role: Api(factories.token(person), user=person) for role, person in people.items()}
    apis["anonymous"] = Api(None)
    apis["read_only"] = Api(factories.token(admin, TokenScope.READ), user=admin)
    return World(
        api=apis,
        customer=customer,
        stranger=stranger,
        tickets=tickets,
        replies=replies,
        attachments=attachments,
        ids={
            "organization": factories.organization().pk,
            "team": factories.team(members=[agent]).pk,
            "user": factories.user(Role.AGENT).pk,
        },
    )


# --- expectations ------------------------------------------------------------------------------

Expected = dict[str, int | dict[str, int]]


def everyone(status: int) -> Expected:
    return dict.fromkeys(ROLES, status)


def signed_in(status: int) -> Expected:
    return {**everyone(status), "anonymous": 401}


def ticket_read(ok: int = 200) -> Expected:
    """Staff see every ticket; a collaborator the ones they follow; a customer their own."""
    return {
        **dict.fromkeys(AGENTS, ok),
        "read_only": ok,
        "collaborator": {"own": ok, "other": 404},
        "customer": {"own": ok, "other": 404},
        "anonymous": 401,
    }


def ticket_agent_write(ok: int) -> Expected:
    """Only agents; others get 403 on what they can see and 404 on what they cannot."""
    return {
        **dict.fromkeys(AGENTS, ok),
        "read_only": 403,
        "collaborator": {"own": 403, "other": 404},
        "customer": {"own": 403, "other": 404},
        "anonymous": 401,
    }


def agents_only(ok: int, *, write: bool) -> Expected:
    return {
        **dict.fromkeys(AGENTS, ok),
        "read_only": 403 if write else ok,
        "collaborator": 403,
        "customer": 403,
        "anonymous": 401,
    }


def managers_only(ok: int) -> Expected:
    return {
        "admin": ok,
        "manager": ok,
        "agent": 403,
        "read_only": 403,
        "collaborator": 403,
        "customer": 403,
        "anonymous": 401,
    }


# --- requests ----------------------------------------------------------------------------------

Request = Callable[[World, str, str], tuple[str, Any]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # as the OpenAPI schema spells it
    request: Request
    expected: Expected
    targets: tuple[str, ...] = ("-",)
    roles: tuple[str, ...] = ROLES

    @property
    def id(self) -> str:
        return f"{self.method} {self.path.removeprefix('/api/v1')}"


def fixed(path: str, body: Any = None) -> Request:
    return lambda w, role, target: (path, body)


def on_ticket(suffix: str, body: Callable[[World, str, str], Any] | None = None) -> Request:
    return lambda w, role, target: (
        f"/tickets/{w.tickets[target].pk}{suffix}",
        body(w, role, target) if body else None,
    )


def create_ticket(w: World, role: str, target: str) -> tuple[str, Any]:
    body: dict[str, Any] = {"subject": "New", "body": "Help"}
    if role != "customer":
        body["requester"] = {"email": "new-requester@example.test"}
    return "/tickets", body


def message_body(w: World, role: str, target: str) -> dict[str, Any]:
    # Each role sends what it is allowed to send: collaborators write internal notes.
    return {"body": "hello", "public": role != "collaborator"}


def on_customer(w: World, role: str, target: str) -> tuple[str, Any]:
    return f"/customers/{(w.customer if target == 'own' else w.stranger).pk}", {"notes": "VIP"}


TICKET_TARGETS = ("own", "other")

ENDPOINTS = [
    Endpoint("GET", "/api/v1/tickets", fixed("/tickets"), signed_in(200)),
    Endpoint(
        "POST",
        "/api/v1/tickets",
        create_ticket,
        {**ticket_agent_write(201), "customer": 201, "collaborator": 403},
    ),
    Endpoint("GET", "/api/v1/tickets/{ticket_id}", on_ticket(""), ticket_read(), TICKET_TARGETS),
    Endpoint(
        "PATCH",
        "/api/v1/tickets/{ticket_id}",
        on_ticket("", lambda w, r, t: {"priority": "high"}),
        ticket_agent_write(200),
        TICKET_TARGETS,
    ),
    Endpoint(
        "POST",
        "/api/v1/tickets/{ticket_id}/messages",
        on_ticket("/messages", message_body),
        {**ticket_agent_write(201), "collaborator": {"own": 201, "other": 404}, "customer": {"own": 201, "other": 404}},
        TICKET_TARGETS,
    ),
    Endpoint("GET", "/api/v1/tickets/{ticket_id}/events", on_ticket("/events"), ticket_read(), TICKET_TARGETS),
    Endpoint(
        "POST",
        "/api/v1/tickets/{ticket_id}/merge",
        on_ticket("/merge", lambda w, r, t: {"into_id": w.tickets[t + "2"].pk}),
        ticket_agent_write(200),
        TICKET_TARGETS,
    ),
    Endpoint(
        "POST",
        "/api/v1/tickets/{ticket_id}/split",
        on_ticket("/split", lambda w, r, t: {"message_ids": [w.replies[t].pk]}),
        ticket_agent_write(201),
        TICKET_TARGETS,
    ),
    Endpoint(
        "POST",
        "/api/v1/tickets/{ticket_id}/links",
        on_ticket("/links", lambda w, r, t: {"target_id": w.tickets[t + "2"].pk}),
        ticket_agent_write(201),
        TICKET_TARGETS,
    ),
    Endpoint(
        "GET",
        "/api/v1/attachments/{attachment_id}",
        lambda w, r, t: (f"/attachments/{w.attachments[t]}", None),
        {
            **ticket_read(),
            "collaborator": {"own": 200, "other": 404, "own_internal": 200},
            "customer": {"own": 200, "other": 404, "own_internal": 404},
        },
        ("own", "other", "own_internal"),
    ),
    Endpoint("GET", "/api/v1/customers", fixed("/customers"), agents_only(200, write=False)),
    Endpoint(
        "POST",
        "/api/v1/customers",
        fixed("/customers", {"name": "New Customer", "emails": ["new-customer@example.test"]}),
        agents_only(201, write=True),
    ),
    Endpoint(
        "GET",
        "/api/v1/customers/{customer_id}",
        on_customer,
        {**agents_only(200, write=False), "customer": {"own": 200, "other": 404}},
        TICKET_TARGETS,
    ),
    Endpoint("PATCH", "/api/v1/customers/{customer_id}", on_customer, agents_only(200, write=True), TICKET_TARGETS),
    Endpoint("GET", "/api/v1/organizations", fixed("/organizations"), agents_only(200, write=False)),
    Endpoint("POST", "/api/v1/organizations", fixed("/organizations", {"name": "New Org"}), managers_only(201)),
    Endpoint(
        "GET",
        "/api/v1/organizations/{organization_id}",
        lambda w, r, t: (f"/organizations/{w.ids['organization']}", None),
        agents_only(200, write=False),
    ),
    Endpoint(
        "PATCH",
        "/api/v1/organizations/{organization_id}",
        lambda w, r, t: (f"/organizations/{w.ids['organization']}", {"notes": "changed"}),
        managers_only(200),
    ),
    Endpoint("GET", "/api/v1/users", fixed("/users"), agents_only(200, write=False)),
    Endpoint(
        "POST",
        "/api/v1/users",
        fixed("/users", {"email": "new-agent@example.test", "name": "New Agent", "role": "agent"}),
        managers_only(201),
    ),
    Endpoint(
        "GET",
        "/api/v1/users/{user_id}",
        lambda w, r, t: (f"/users/{w.ids['user']}", None),
        agents_only(200, write=False),
    ),
    Endpoint(
        "PATCH",
        "/api/v1/users/{user_id}",
        lambda w, r, t: (f"/users/{w.ids['user']}", {"name": "Renamed"}),
        managers_only(200),
    ),
    Endpoint("GET", "/api/v1/teams", fixed("/teams"), agents_only(200, write=False)),
    Endpoint("POST", "/api/v1/teams", fixed("/teams", {"name": "New Team"}), managers_only(201)),
    Endpoint(
        "GET",
        "/api/v1/teams/{team_id}",
        lambda w, r, t: (f"/teams/{w.ids['team']}", None),
        agents_only(200, write=False),
    ),
    Endpoint(
        "PATCH",
        "/api/v1/teams/{team_id}",
        lambda w, r, t: (f"/teams/{w.ids['team']}", {"description": "changed"}),
        managers_only(200),
    ),
    Endpoint("GET", "/api/v1/me", fixed("/me"), signed_in(200)),
    # Metrics: managers and admins, read tokens included (BI tools only read).
    Endpoint("GET", "/api/v1/metrics/tickets", fixed("/metrics/tickets"), {**managers_only(200), "read_only": 200}),
    Endpoint(
        "GET",
        "/api/v1/metrics/daily",
        fixed("/metrics/daily?from=2026-03-02&to=2026-03-02"),
        {**managers_only(200), "read_only": 200},
    ),
    Endpoint(
        "GET", "/api/v1/metrics/performance", fixed("/metrics/performance"), {**managers_only(200), "read_only": 200}
    ),
    Endpoint(
        "GET",
        "/api/v1/metrics/breakdown",
        fixed("/metrics/breakdown?by=team"),
        {**managers_only(200), "read_only": 200},
    ),
    Endpoint(
        "GET", "/api/v1/metrics/scorecards", fixed("/metrics/scorecards"), {**managers_only(200), "read_only": 200}
    ),
    Endpoint(
        "GET", "/api/v1/metrics/operations", fixed("/metrics/operations"), {**managers_only(200), "read_only": 200}
    ),
    Endpoint(
        "GET", "/api/v1/feedback/scores", fixed("/feedback/scores?by=team"), {**managers_only(200), "read_only": 200}
    ),
    Endpoint("GET", "/api/v1/feedback/themes", fixed("/feedback/themes"), {**managers_only(200), "read_only": 200}),
    Endpoint(
        "GET",
        "/api/v1/feedback/answers",
        fixed("/feedback/answers?kind=csat"),
        {**managers_only(200), "read_only": 200},
    ),
]

# Routes outside the OpenAPI schema: the public documentation and ninja's root (always 404).
# They serve no data, so the same answer for nobody and for a customer is enough (building the
# schema is slow).
_PUBLIC = ("anonymous", "customer")
DOCUMENTATION = [
    Endpoint("GET", "/api/v1/openapi.json", fixed("/openapi.json"), everyone(200), roles=_PUBLIC),
    Endpoint("GET", "/api/v1/docs", fixed("/docs"), everyone(200), roles=_PUBLIC),
    Endpoint("GET", "/api/v1/", fixed("/"), everyone(404), roles=_PUBLIC),
]


def _call(w: World, endpoint: Endpoint, role: str, target: str) -> Any:
    path, body = endpoint.request(w, role, target)
    api = w.api[role]
    # Every cell starts from the same help desk: its writes are rolled back.
    with transaction.atomic():
        response = api.get(path) if endpoint.method == "GET" else api.request(endpoint.method, path, body)
        transaction.set_rollback(True)
    return response


@pytest.mark.parametrize("endpoint", ENDPOINTS + DOCUMENTATION, ids=lambda e: e.id)
def test_permission_matrix(world: World, endpoint: Endpoint) -> None:
    actual: dict[tuple[str, str], int] = {}
    expected: dict[tuple[str, str], int] = {}
    for role in endpoint.roles:
        rule = endpoint.expected[role]
        for target in endpoint.targets:
            expected[role, target] = rule if isinstance(rule, int) else rule[target]
            response = _call(world, endpoint, role, target)
            actual[role, target] = response.status_code
            if response.status_code >= 400 and response["Content-Type"] == "application/json":
                errors_of(response)
    assert actual == expected


def _schema_operations() -> set[tuple[str, str]]:
    schema = ninja_api.get_openapi_schema()
    return {(method.upper(), path) for path, operations in schema["paths"].items() for method in operations}


def _url_routes() -> set[str]:
    """Every route the API serves, spelled like the schema: tickets/<int:ticket_id> → /api/v1/tickets/{ticket_id}."""
    patterns = ninja_api.urls[0]
    routes = set()
    for pattern in patterns:
        assert isinstance(pattern, URLPattern)
        route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))
        routes.add("/api/v1/" + route)
    return routes


def test_the_matrix_covers_every_endpoint_and_method() -> None:
    covered = {(e.method, e.path) for e in ENDPOINTS}
    assert len(covered) == len(ENDPOINTS), "an endpoint is listed twice"
    assert covered == _schema_operations()
    documented = {e.path for e in ENDPOINTS + DOCUMENTATION}
    assert _url_routes() == documented


def test_the_matrix_covers_every_role() -> None:
    for endpoint in ENDPOINTS + DOCUMENTATION:
        assert set(endpoint.expected) == set(ROLES), endpoint.id
        if endpoint not in DOCUMENTATION:
            assert endpoint.roles == ROLES, endpoint.id
        for rule in endpoint.expected.values():
            if isinstance(rule, dict):
                assert set(rule) == set(endpoint.targets), endpoint.id


# --- visibility in detail: what customers and collaborators see --------------------------------


def test_customers_see_their_own_ccd_and_shared_organization_tickets_only() -> None:
    shared = factories.organization(shared_tickets=True)
    private = factories.organization(shared_tickets=False)
    me = caller(Role.CUSTOMER, organization=shared)
    colleague = factories.customer(organization=shared)
    private_me = caller(Role.CUSTOMER, organization=private)
    private_colleague = factories.customer(organization=private)
    agent = factories.user(Role.AGENT)
    customer = me.user.customer  # type: ignore[union-attr]
    mine = factories.ticket(requester=customer)
    colleagues = factories.ticket(requester=colleague)
    ccd = factories.ticket(actor=agent, requester=factories.customer(), ccs=[customer])
    strangers = factories.ticket()
    private_colleagues = factories.ticket(requester=private_colleague)

    listed = {item["id"] for item in me.get("/tickets").json()["items"]}
    assert listed == {mine.pk, colleagues.pk, ccd.pk}
    for ticket in (mine, colleagues, ccd):
        assert me.get(f"/tickets/{ticket.pk}").status_code == 200
    for ticket in (strangers, private_colleagues):
        assert me.get(f"/tickets/{ticket.pk}").status_code == 404
        assert me.get(f"/tickets/{ticket.pk}/events").status_code == 404
        assert me.post(f"/tickets/{ticket.pk}/messages", {"body": "let me in"}).status_code == 404

    # An organization that does not share tickets keeps each member's to themselves.
    assert {item["id"] for item in private_me.get("/tickets").json()["items"]} == set()
    assert private_me.get(f"/tickets/{private_colleagues.pk}").status_code == 404
    # A CC'd customer may reply.
    assert me.post(f"/tickets/{ccd.pk}/messages", {"body": "me too"}).status_code == 201


def test_internal_notes_never_reach_customers() -> None:
    me = caller(Role.CUSTOMER)
    agent = caller(Role.AGENT)
    ticket = factories.ticket(requester=me.user.customer)  # type: ignore[union-attr]
    note = agent.post(
        f"/tickets/{ticket.pk}/messages",
        {
            "body": "Internal: refund code WOMBAT42",
            "public": False,
            "attachments": [{"filename": "secret.txt", "content_base64": b64(b"WOMBAT42")}],
        },
    ).json()
    agent.post(f"/tickets/{ticket.pk}/messages", {"body": "We are on it", "status": "pending"})
    # Merging moves the note to another ticket the customer can also see.
    target = factories.ticket(requester=me.user.customer)  # type: ignore[union-attr]
    agent.post(f"/tickets/{ticket.pk}/merge", {"into_id": target.pk})

    for ticket_id in (ticket.pk, target.pk):
        detail = me.get(f"/tickets/{ticket_id}")
        assert detail.status_code == 200
        assert "WOMBAT42" not in detail.content.decode()
        assert "Merged into" not in detail.content.decode()
        assert all(m["public"] for m in detail.json()["messages"])
        assert detail.json()["followers"] == []
        assert detail.json()["links"] == []
        events = me.get(f"/tickets/{ticket_id}/events")
        assert "WOMBAT42" not in events.content.decode()
        assert note["id"] not in {e["message_id"] for e in events.json()}
        assert {e["field"] for e in events.json()} <= {"created", "status", "message"}
    assert me.get("/tickets", {"q": "wombat42"}).json()["items"] == []
    assert me.get("/tickets", {"q": "refund"}).json()["items"] == []
    assert me.get(note["attachments"][0]["url"]).status_code == 404
    # Staff see all of it.
    assert "WOMBAT42" in agent.get(f"/tickets/{target.pk}").content.decode()
    assert [i["id"] for i in agent.get("/tickets", {"q": "wombat42"}).json()["items"]] == [target.pk]


def test_collaborators_see_followed_tickets_and_write_internal_notes_only() -> None:
    collaborator = caller(Role.COLLABORATOR)
    agent = factories.user(Role.AGENT)
    followed = factories.ticket()
    actions.update_ticket(followed, actor=agent, via=Via.WEB, changes={"followers": [collaborator.user]})
    factories.ticket()
    assert [i["id"] for i in collaborator.get("/tickets").json()["items"]] == [followed.pk]
    url = f"/tickets/{followed.pk}/messages"
    note = collaborator.post(url, {"body": "From finance: refund approved", "public": False})
    assert note.status_code == 201
    assert note.json()["public"] is False
    assert collaborator.post(url, {"body": "Hi customer"}).status_code == 403
    # A note may not change the ticket either.
    response = collaborator.post(url, {"body": "closing", "public": False, "status": "solved"})
    assert response.status_code == 422
    assert set(errors_of(response)) == {"status"}
    assert collaborator.patch(f"/tickets/{followed.pk}", {"priority": "high"}).status_code == 403
    after = Ticket.objects.get(pk=followed.pk)
    assert (after.status, after.priority) == ("new", "normal")
    # Internal notes are theirs to read.
    detail = collaborator.get(f"/tickets/{followed.pk}").json()
    assert [m["public"] for m in detail["messages"]] == [True, False]
    # Unfollowed, the ticket is gone for them.
    actions.update_ticket(followed, actor=agent, via=Via.WEB, changes={"followers": []})
    assert collaborator.get(f"/tickets/{followed.pk}").status_code == 404


def test_customers_cannot_post_internal_notes() -> None:
    me = caller(Role.CUSTOMER)
    ticket = factories.ticket(requester=me.user.customer)  # type: ignore[union-attr]
    assert me.post(f"/tickets/{ticket.pk}/messages", {"body": "psst", "public": False}).status_code == 403
    assert Message.objects.filter(ticket=ticket).count() == 1


def test_managers_cannot_create_or_change_admins() -> None:
    manager = caller(Role.MANAGER)
    admin = factories.user(Role.ADMIN)
    response = manager.post("/users", {"email": "boss@example.test", "name": "Boss", "role": "admin"})
    assert response.status_code == 403
    assert manager.patch(f"/users/{admin.pk}", {"name": "Demoted"}).status_code == 403
    agent = factories.user(Role.AGENT)
    assert manager.patch(f"/users/{agent.pk}", {"role": "admin"}).status_code == 403
    assert manager.patch(f"/users/{agent.pk}", {"role": "manager"}).status_code == 200


def test_customer_reads_only_their_own_customer_record() -> None:
    me = caller(Role.CUSTOMER)
    own = me.get(f"/customers/{me.user.customer.pk}")  # type: ignore[union-attr]
    assert own.status_code == 200
    assert own.json()["has_account"] is True
    assert me.get(f"/customers/{factories.customer().pk}").status_code == 404
    assert me.get("/customers/999999").status_code == 404


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.COLLABORATOR])
def test_merge_is_refused_before_the_target_is_looked_up(role: str) -> None:
    api = caller(role)
    agent = factories.user(Role.AGENT)
    if role == Role.CUSTOMER:
        mine = factories.ticket(requester=api.user.customer)  # type: ignore[union-attr]
    else:
        mine = factories.ticket()
        actions.update_ticket(mine, actor=agent, via=Via.WEB, changes={"followers": [api.user]})
    for into in (factories.ticket().pk, 999_999):
        response = api.post(f"/tickets/{mine.pk}/merge", {"into_id": into})
        assert response.status_code == 403, response.content
    assert Ticket.objects.get(pk=mine.pk).status == "new"
