"""The reply composer (POST /tickets/<id>/reply): public replies, internal notes, "submit as",
attachments, errors next to the field with the typed text kept, and htmx partial answers."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from deskpilot.accounts.models import Role
from deskpilot.tickets import actions
from deskpilot.tickets.models import Message, Status, Ticket, TicketEvent, Via
from tests import factories
from tests.pages import client_for

pytestmark = pytest.mark.django_db


def reply(client: Client, ticket: Ticket, **data: object) -> object:
    payload: dict[str, object] = {"reply-kind": "public", "reply-body": "", "reply-status": ""}
    payload.update({f"reply-{k}": v for k, v in data.items()})
    return client.post(f"/tickets/{ticket.pk}/reply", payload)


def latest_message(ticket: Ticket) -> Message:
    return Message.objects.filter(ticket=ticket).order_by("-id").first()  # type: ignore[return-value]


def test_a_public_reply_is_stored_and_redirects_back_with_a_flash() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    client = client_for(agent)
    response = reply(client, ticket, body="We refunded the second charge.")
    message = latest_message(ticket)
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert response["Location"] == f"/tickets/{ticket.pk}#message-{message.pk}"  # type: ignore[index]
    assert (message.body_text, message.public, message.via, message.author_user) == (
        "We refunded the second charge.",
        True,
        Via.WEB,
        agent,
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN  # an agent's public reply opens a new ticket
    page = client.get(response["Location"]).content.decode()  # type: ignore[index]
    assert "Reply sent." in page
    assert "We refunded the second charge." in page


def test_an_internal_note_is_not_public() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    response = reply(client_for(agent), ticket, kind="internal", body="Check the payment provider.")
    assert response.status_code == 302  # type: ignore[attr-defined]
    message = latest_message(ticket)
    assert message.public is False
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW  # a note is not a reply


def test_submit_as_pending_sets_the_status_with_the_reply() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    reply(client_for(agent), ticket, body="Which card was it?", status="pending")
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING
    event = TicketEvent.objects.filter(ticket=ticket, field="status").get()
    assert (event.new, event.via, event.message_id) == ("pending", Via.WEB, None)


def test_an_empty_body_is_an_error_next_to_the_field_and_keeps_the_choices() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    response = reply(client_for(agent), ticket, kind="internal", body="   ", status="solved")
    assert response.status_code == 422  # type: ignore[attr-defined]
    body = response.content.decode()  # type: ignore[attr-defined]
    assert '<p class="error" id="id_reply-body_error" role="alert">Write a message before sending it.</p>' in body
    assert 'aria-invalid="true"' in body
    assert 'value="internal" x-model="kind" id="id_reply-kind_1" required checked' in body
    assert '<option value="solved" selected>Solved</option>' in body
    assert Message.objects.filter(ticket=ticket).count() == 1


def test_too_large_attachment_is_refused_next_to_the_field_and_the_text_is_kept(settings) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1000
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    client = client_for(agent)
    big = SimpleUploadedFile("scan.png", b"x" * 1001, content_type="image/png")
    response = client.post(
        f"/tickets/{ticket.pk}/reply",
        {"reply-kind": "public", "reply-body": "Here is the <scan>", "reply-attachments": [big]},
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "scan.png is too large (1001\xa0bytes); the limit is 1000\xa0bytes per file." in body
    assert 'id="id_reply-attachments_error"' in body
    assert "Here is the &lt;scan&gt;</textarea>" in body
    assert Message.objects.filter(ticket=ticket).count() == 1


def test_executables_are_refused_by_the_attachments_module() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    tool = SimpleUploadedFile("tool.exe", b"MZ\x90\x00" + b"\x00" * 200, content_type="application/octet-stream")
    response = client_for(agent).post(
        f"/tickets/{ticket.pk}/reply", {"reply-kind": "public", "reply-body": "Run this", "reply-attachments": [tool]}
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "is an executable file, which is not accepted" in body
    assert 'id="id_reply-attachments_error"' in body
    assert Message.objects.filter(ticket=ticket).count() == 1


def test_several_attachments_are_stored_on_the_message() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    files = [
        SimpleUploadedFile("a.txt", b"first", content_type="text/plain"),
        SimpleUploadedFile("b.csv", b"x,y\n1,2\n", content_type="text/csv"),
    ]
    response = client_for(agent).post(
        f"/tickets/{ticket.pk}/reply", {"reply-kind": "public", "reply-body": "Both files", "reply-attachments": files}
    )
    assert response.status_code == 302
    message = latest_message(ticket)
    assert sorted((a.filename, a.size) for a in message.attachments.all()) == [("a.txt", 5), ("b.csv", 8)]


def test_collaborators_add_internal_notes_only() -> None:
    collaborator = factories.user(Role.COLLABORATOR)
    ticket = factories.ticket()
    actions.update_ticket(ticket, actor=factories.user(Role.AGENT), via=Via.WEB, changes={"followers": [collaborator]})
    client = client_for(collaborator)
    response = reply(client, ticket, kind="public", body="Hello customer")
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "Collaborators can add internal notes only." in response.content.decode()  # type: ignore[attr-defined]
    assert Message.objects.filter(ticket=ticket).count() == 1
    # The status select is not theirs: a posted status is ignored, the note is added.
    response = reply(client, ticket, kind="internal", body="Legal says yes.", status="solved")
    assert response.status_code == 302  # type: ignore[attr-defined]
    ticket.refresh_from_db()
    assert (latest_message(ticket).public, ticket.status) == (False, Status.NEW)


def test_a_closed_ticket_takes_no_reply() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.SOLVED})
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.CLOSED})
    response = reply(client_for(agent), ticket, body="One more thing")
    assert response.status_code == 422  # type: ignore[attr-defined]
    body = response.content.decode()  # type: ignore[attr-defined]
    assert '<div class="form-errors" role="alert"><p>closed tickets cannot be changed</p>' in body
    assert f'action="/tickets/{ticket.pk}/reply"' not in body
    assert Message.objects.filter(ticket=ticket).count() == 1


@pytest.mark.parametrize("who", ["customer", "stranger_collaborator"])
def test_people_who_may_not_see_the_ticket_get_404(who: str) -> None:
    ticket = factories.ticket()
    user = factories.customer_user() if who == "customer" else factories.user(Role.COLLABORATOR)
    if who == "customer":
        ticket = factories.ticket(requester=user.customer)
    response = reply(client_for(user), ticket, body="hi")
    assert response.status_code == 404  # type: ignore[attr-defined]
    assert Message.objects.filter(ticket=ticket).count() == 1


def test_anonymous_posts_go_to_sign_in_and_get_is_not_allowed() -> None:
    ticket = factories.ticket()
    response = Client().post(f"/tickets/{ticket.pk}/reply", {"reply-body": "hi"})
    assert response.status_code == 302
    assert response["Location"].startswith("/signin?next=")
    assert client_for(factories.user(Role.AGENT)).get(f"/tickets/{ticket.pk}/reply").status_code == 405


def test_the_form_is_csrf_protected() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    client = client_for(agent, enforce_csrf_checks=True)
    response = reply(client, ticket, body="forged")
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert Message.objects.filter(ticket=ticket).count() == 1
    page = client.get(f"/tickets/{ticket.pk}").content.decode()
    assert page.count('name="csrfmiddlewaretoken"') >= 4  # composer, panel, merge, sign-out


def test_with_htmx_the_body_is_swapped_and_the_composer_cleared() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    client = client_for(agent)
    response = client.post(
        f"/tickets/{ticket.pk}/reply",
        {"reply-kind": "public", "reply-body": "Swapped in place", "reply-status": "pending"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="ticket-body"')
    assert "<html" not in body
    assert "Reply sent." in body
    assert "Swapped in place" in body
    assert "></textarea>" in body.replace("\n", "")  # an empty composer
    assert 'class="badge status--pending"' in body
    # Errors come back as the body too, with 422 (the page tells htmx to swap them in).
    response = client.post(
        f"/tickets/{ticket.pk}/reply", {"reply-kind": "public", "reply-body": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "Write a message before sending it." in response.content.decode()
