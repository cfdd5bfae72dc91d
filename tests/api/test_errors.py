"""Bad input gets one JSON error shape naming the field, and never leaves anything half-written."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings

from deskpilot.accounts.models import Role
from deskpilot.customers.models import Customer, CustomerEmail
from deskpilot.tickets.models import Attachment, CustomField, Message, Tag, Ticket, TicketEvent, TicketTag
from tests import factories
from tests.api.conftest import Api, b64, caller, errors_of
from tests.core.test_html import ATTACKS, assert_safe

pytestmark = pytest.mark.django_db

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56


def snapshot() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (Ticket, Message, TicketEvent, Attachment, Customer, CustomerEmail, Tag, TicketTag)
    )


def stored_files() -> list[Path]:
    root = Path(django_settings.ATTACHMENT_DIR)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def unchanged() -> Iterator[None]:
    """Asserts that the test wrote no ticket, message, event, attachment, customer or tag."""
    before = snapshot()
    yield
    assert snapshot() == before


def new_ticket(**fields: Any) -> dict[str, Any]:
    return {
        "subject": "Help",
        "body": "Please",
        "requester": {"email": "fresh@example.test", "name": "Fresh"},
        **fields,
    }


# --- shape and field names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (new_ticket(status="bogus"), "status"),
        (new_ticket(priority="extreme"), "priority"),
        (new_ticket(type="rant"), "type"),
        (new_ticket(channel="pigeon"), "channel"),
        (new_ticket(subjcet="typo"), "subjcet"),
        (new_ticket(requester={"email": "a@b.test", "nmae": "typo"}), "requester.nmae"),
        (new_ticket(cc=[{"email": "a@b.test", "bogus": 1}]), "cc[0].bogus"),
        (new_ticket(attachments=[{"filename": "a", "content_base64": "", "size": 1}]), "attachments[0].size"),
        (new_ticket(subject=123), "subject"),
        (new_ticket(subject="x" * 301), "subject"),
        (new_ticket(tags="vip"), "tags"),
        (new_ticket(tags=[1, 2]), "tags[0]"),
        (new_ticket(team_id="abc"), "team_id"),
        (new_ticket(assignee_id=[1]), "assignee_id"),
        (new_ticket(custom_fields=["a"]), "custom_fields"),
        (new_ticket(attachments="file"), "attachments"),
        (new_ticket(attachments=[{"content_base64": ""}]), "attachments[0].filename"),
        (new_ticket(requester={"name": "no email"}), "requester.email"),
        (new_ticket(requester={"email": "not-an-email"}), "requester.email"),
        (new_ticket(requester={"email": "a@b.test"}, cc=[{"email": "ok@b.test"}, {"email": "bad@"}]), "cc[1].email"),
        (new_ticket(requester_id="abc"), "requester_id"),
        (new_ticket(assignee_id=999_999), "assignee_id"),
        (new_ticket(team_id=999_999), "team_id"),
        (new_ticket(tags=["x" * 81]), "tags"),
        (new_ticket(subject="   "), "subject"),
        (new_ticket(body=""), "body"),
        (new_ticket(custom_fields={"nope": 1}), "custom_fields.nope"),
        ({"body": "no subject", "requester": {"email": "a@b.test"}}, "subject"),
        (new_ticket(attachments=[{"filename": "a.txt", "content_base64": "***"}]), "attachments[0].content_base64"),
    ],
)
def test_create_errors_name_the_field(agent_api: Api, unchanged: None, body: dict[str, Any], field: str) -> None:
    response = agent_api.post("/tickets", body)
    assert response.status_code == 422, response.content
    assert field in errors_of(response), errors_of(response)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "bogus"}, "status"),
        ({"priorty": "high"}, "priorty"),
        ({"assignee_id": 999_999}, "assignee_id"),
        ({"assignee_id": "me"}, "assignee_id"),
        ({"team_id": 999_999}, "team_id"),
        ({"organization_id": 999_999}, "organization_id"),
        ({"requester_id": 999_999}, "requester_id"),
        ({"follower_ids": [999_999]}, "follower_ids"),
        ({"cc": [{"email": "nope"}]}, "cc[0].email"),
        ({"tags": [""]}, "tags"),
        ({"add_tags": "x"}, "add_tags"),
        ({"custom_fields": {"nope": 1}}, "custom_fields.nope"),
        ({"subject": ""}, "subject"),
    ],
)
def test_update_errors_name_the_field(agent_api: Api, body: dict[str, Any], field: str) -> None:
    ticket = factories.ticket()
    before = snapshot()
    response = agent_api.patch(f"/tickets/{ticket.pk}", body)
    assert response.status_code == 422, response.content
    assert field in errors_of(response), errors_of(response)
    assert snapshot() == before
    assert Ticket.objects.get(pk=ticket.pk).version == ticket.version


def test_assignee_must_be_an_active_agent_in_the_team(agent_api: Api) -> None:
    outsider = factories.user(Role.AGENT)
    team = factories.team(members=[agent_api.user])  # type: ignore[list-item]
    customer_account = factories.customer_user()
    collaborator = factories.user(Role.COLLABORATOR)
    gone = factories.user(Role.AGENT)
    gone.is_active = False
    gone.save()
    ticket = factories.ticket(actor=agent_api.user, team=team)
    for person in (outsider, customer_account, collaborator, gone):
        response = agent_api.patch(f"/tickets/{ticket.pk}", {"assignee_id": person.pk})
        assert response.status_code == 422
        assert set(errors_of(response)) == {"assignee_id"}, person.role
    response = agent_api.post("/tickets", new_ticket(team_id=team.pk, assignee_id=outsider.pk))
    assert set(errors_of(response)) == {"assignee_id"}


def test_followers_must_be_staff(agent_api: Api) -> None:
    ticket = factories.ticket()
    response = agent_api.patch(f"/tickets/{ticket.pk}", {"follower_ids": [factories.customer_user().pk]})
    assert response.status_code == 422
    assert set(errors_of(response)) == {"follower_ids"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"bdy": "typo"}, "bdy"),
        ({"body": "x", "status": "bogus"}, "status"),
        ({"body": "x", "status": "closed"}, "status"),
        ({"body": "x", "public": "maybe"}, "public"),
        ({"body": 5}, "body"),
        ({"body": "x", "attachments": [{"filename": "", "content_base64": ""}]}, "attachments[0].filename"),
    ],
)
def test_message_errors_name_the_field(agent_api: Api, body: dict[str, Any], field: str) -> None:
    ticket = factories.ticket()
    before = snapshot()
    response = agent_api.post(f"/tickets/{ticket.pk}/messages", body)
    assert response.status_code == 422, response.content
    assert field in errors_of(response)
    assert snapshot() == before


def test_every_error_is_json_with_detail_and_errors(agent_api: Api, anonymous_api: Api) -> None:
    ticket = factories.ticket()
    responses = {
        401: anonymous_api.get("/tickets"),
        403: caller(Role.COLLABORATOR).post("/tickets", new_ticket()),
        404: agent_api.get("/tickets/999999"),
        412: agent_api.patch(f"/tickets/{ticket.pk}", {"priority": "low"}, headers={"If-Match": '"1-999"'}),
        422: agent_api.post("/tickets", {}),
    }
    for status, response in responses.items():
        assert response.status_code == status
        assert response["Content-Type"] == "application/json"
        errors_of(response)
    assert responses[401]["WWW-Authenticate"].startswith("Bearer")
    assert set(errors_of(responses[422])) == {"subject"}


def test_unparseable_json_is_a_clear_client_error(agent_api: Api, unchanged: None) -> None:
    response = agent_api.request("POST", "/tickets", raw=b'{"subject": ')
    assert response.status_code == 400
    assert "parse" in response.json()["detail"]
    errors_of(response)


def test_error_bodies_never_leak_a_stack_trace(agent_api: Api) -> None:
    response = agent_api.get("/tickets", {"cursor": base64.urlsafe_b64encode(b'["id",false,[null,1]]').decode()})
    assert response.status_code == 422
    assert "Traceback" not in response.content.decode()


# --- attachments: size and type ----------------------------------------------------------------


def test_oversized_attachment_is_413_and_nothing_is_written(agent_api: Api, settings: Any, unchanged: None) -> None:
    settings.ATTACHMENT_MAX_BYTES = 100
    response = agent_api.post(
        "/tickets",
        new_ticket(
            cc=[{"email": "cc-person@example.test"}],
            tags=["new-tag"],
            attachments=[{"filename": "big.bin", "content_base64": b64(b"x" * 101)}],
        ),
    )
    assert response.status_code == 413, response.content
    errors = errors_of(response)
    assert set(errors) == {"attachments[0]"}
    assert "100" in errors["attachments[0]"]
    assert stored_files() == []


def test_oversized_second_attachment_stores_not_even_the_first(agent_api: Api, settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 100
    ticket = factories.ticket()
    before = snapshot()
    response = agent_api.post(
        f"/tickets/{ticket.pk}/messages",
        {
            "body": "two files",
            "status": "pending",
            "attachments": [
                {"filename": "ok.txt", "content_base64": b64(b"fine")},
                {"filename": "big.bin", "content_base64": b64(b"x" * 101)},
            ],
        },
    )
    assert response.status_code == 413
    assert set(errors_of(response)) == {"attachments[1]"}
    assert snapshot() == before
    assert stored_files() == []
    assert Ticket.objects.get(pk=ticket.pk).status == "new"


def test_attachment_at_the_limit_is_accepted(agent_api: Api, settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 100
    response = agent_api.post(
        "/tickets", new_ticket(attachments=[{"filename": "ok.bin", "content_base64": b64(b"x" * 100)}])
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("filename", "content", "content_type"),
    [
        ("report.pdf", EXE, "application/pdf"),  # the bytes decide, not the name
        ("setup.exe", b"just text", "text/plain"),
        ("SETUP.EXE", b"just text", ""),
        ("tool.exe.", b"just text", ""),  # trailing dot stripped by Windows
        ("script.bat", b"echo hi", ""),
        ("payload", ELF, ""),
        ("installer.msi", b"x", ""),
        ("x.scr", b"x", ""),
    ],
)
def test_executable_attachments_are_refused(
    agent_api: Api, filename: str, content: bytes, content_type: str, unchanged: None
) -> None:
    files = [{"filename": "fine.txt", "content_base64": b64(b"fine")}]
    files.append({"filename": filename, "content_type": content_type, "content_base64": b64(content)})
    response = agent_api.post("/tickets", new_ticket(attachments=files))
    assert response.status_code == 422, response.content
    assert set(errors_of(response)) == {"attachments[1]"}
    assert stored_files() == []


# --- HTML sanitised when stored ----------------------------------------------------------------


@pytest.mark.parametrize(
    "attack",
    # core/test_html.py tries every attack on the sanitiser; here a few, and all at once, go
    # through the API to show that what is stored and served is the sanitised HTML.
    [ATTACKS[0], ATTACKS[3], ATTACKS[7], ATTACKS[13], "".join(ATTACKS)],
    ids=["script", "onerror", "javascript-entity", "style", "all"],
)
def test_html_is_sanitised_when_stored_and_in_the_api(agent_api: Api, attack: str) -> None:
    html = f"<p>Hello <b>there</b></p>{attack}"
    created = agent_api.post("/tickets", new_ticket(body="", body_html=html))
    assert created.status_code == 201, created.content
    ticket_id = created.json()["id"]
    reply = agent_api.post(f"/tickets/{ticket_id}/messages", {"body_html": html})
    assert reply.status_code == 201
    for message in Message.objects.filter(ticket_id=ticket_id):
        assert_safe(message.body_html)
        assert "<b>there</b>" in message.body_html
        assert "alert(1)</script>" not in message.body_html
    for shown in [*agent_api.get(f"/tickets/{ticket_id}").json()["messages"], reply.json()]:
        assert_safe(shown["body_html"])
        assert "Hello there" in shown["body_text"]


def test_html_body_gives_a_plain_text_body(agent_api: Api) -> None:
    response = agent_api.post(
        "/tickets", new_ticket(body="", body_html="<p>Line one</p><script>steal()</script><p>Line two</p>")
    )
    message = response.json()["messages"][0]
    assert message["body_text"] == "Line one\nLine two"


# --- a failure after partial validation writes nothing -----------------------------------------


def test_late_failure_on_create_writes_nothing(agent_api: Api, unchanged: None) -> None:
    CustomField.objects.create(key="plan", label="Plan", kind="dropdown", choices=["free", "pro"])
    response = agent_api.post(
        "/tickets",
        new_ticket(
            requester={"email": "brand-new@example.test"},
            cc=[{"email": "also-new@example.test"}],
            tags=["fresh-tag"],
            attachments=[{"filename": "a.txt", "content_base64": b64(b"hello")}],
            custom_fields={"plan": "enterprise"},
        ),
    )
    assert response.status_code == 422
    assert set(errors_of(response)) == {"custom_fields.plan"}


def test_late_failure_on_update_writes_nothing(agent_api: Api) -> None:
    ticket = factories.ticket(tags=["keep"], actor=factories.user(Role.AGENT))
    before = snapshot()
    response = agent_api.patch(
        f"/tickets/{ticket.pk}",
        {"priority": "urgent", "add_tags": ["new"], "cc": [{"email": "new-cc@example.test"}], "assignee_id": 999_999},
    )
    assert response.status_code == 422
    assert snapshot() == before
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert (fresh.priority, fresh.version) == ("normal", ticket.version)


def test_late_failure_on_reply_writes_nothing(agent_api: Api) -> None:
    ticket = factories.ticket()
    agent_api.patch(f"/tickets/{ticket.pk}", {"status": "open"})
    before = snapshot()
    response = agent_api.post(
        f"/tickets/{ticket.pk}/messages",
        {"body": "x", "status": "closed", "attachments": [{"filename": "a.txt", "content_base64": b64(b"a")}]},
    )
    assert response.status_code == 422
    assert snapshot() == before


def test_a_body_over_the_servers_limit_is_413(agent_api: Api, settings: Any, unchanged: None) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = agent_api.post("/tickets", new_ticket(body="x" * 2000))
    assert response.status_code == 413
    assert set(errors_of(response)) == {"body"}


def test_a_new_ticket_cannot_start_closed(agent_api: Api, unchanged: None) -> None:
    response = agent_api.post("/tickets", new_ticket(status="closed"))
    assert response.status_code == 422
    assert set(errors_of(response)) == {"status"}


@pytest.mark.parametrize("path", ["/tickets", "/customers", "/organizations", "/users", "/teams"])
@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"limit": "x"}, "limit"), ({"cursor": "%%%"}, "cursor")],
)
def test_every_list_checks_limit_and_cursor(agent_api: Api, path: str, params: dict[str, Any], field: str) -> None:
    response = agent_api.get(path, params)
    assert response.status_code == 422, response.content
    assert set(errors_of(response)) == {field}
