"""One request's page (/portal/tickets/<id>): who may open it, what it shows (never an internal
note), attachments, the reply form and the lifecycle it triggers, and a query count that does not
grow with the conversation."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from deskpilot.tickets import actions
from deskpilot.tickets.attachments import IncomingFile
from deskpilot.tickets.models import Attachment, Channel, LinkKind, Message, Status, Ticket, TicketLink, Via
from tests import factories
from tests.portal.conftest import People, client_for, share

pytestmark = pytest.mark.django_db


def url(ticket: Ticket) -> str:
    return reverse("portal:ticket", args=[ticket.pk])


def conversation(people: People) -> Ticket:
    """A request with a public agent reply (with a file) and an internal note (with a file)."""
    ticket = factories.ticket(
        requester=people.customer.customer, subject="Printer on fire", body_text="It smokes a little."
    )
    actions.add_message(
        ticket,
        actor=people.agent,
        via=Via.WEB,
        body_text="Please unplug it and send a photo.",
        attachments=[IncomingFile("guide.txt", b"unplug first")],
    )
    actions.add_message(
        ticket,
        actor=people.agent,
        via=Via.WEB,
        public=False,
        body_text="INTERNAL: customer broke it, charge them",
        attachments=[IncomingFile("secret-notes.txt", b"do not share")],
    )
    return ticket


# --- who may open it ---------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_sign_in(people: People) -> None:
    ticket = factories.ticket(requester=people.customer.customer)
    response = client_for(None).get(url(ticket))
    assert response.status_code == 302
    assert response["Location"] == f"/signin?next={url(ticket)}"


@pytest.mark.parametrize(
    ("who", "shared", "expected"),
    [
        ("customer", False, 200),
        ("other", False, 404),
        ("other", True, 404),
        ("colleague", False, 404),
        ("colleague", True, 200),
        # Staff work tickets in their own pages; the portal is for customers.
        ("agent", False, 404),
        ("manager", False, 404),
        ("admin", False, 404),
        ("collaborator", False, 404),
    ],
)
def test_who_may_open_a_request(people: People, who: str, shared: bool, expected: int) -> None:
    share(people.organization, shared)
    ticket = factories.ticket(requester=people.customer.customer)
    client = client_for(getattr(people, who))
    assert client.get(url(ticket)).status_code == expected
    # Writing is refused the same way, and writes nothing.
    before = Message.objects.count()
    response = client.post(url(ticket), {"body": "let me in"})
    assert response.status_code == (expected if expected != 200 else 302)
    assert Message.objects.count() == before + (1 if expected == 200 else 0)


def test_a_ccd_customer_may_open_and_reply(people: People) -> None:
    ticket = factories.ticket(requester=people.other.customer, ccs=[people.customer.customer])
    client = client_for(people.customer)
    assert client.get(url(ticket)).status_code == 200
    assert client.post(url(ticket), {"body": "Me too"}).status_code == 302
    assert ticket.messages.filter(author_customer=people.customer.customer).count() == 1


def test_missing_ticket_is_404(people: People) -> None:
    assert client_for(people.customer).get("/portal/tickets/999999").status_code == 404


# --- what it shows -----------------------------------------------------------------------------


def test_shows_public_messages_never_internal_notes(people: People) -> None:
    ticket = conversation(people)
    response = client_for(people.customer).get(url(ticket))
    html = response.content.decode()

    assert response.status_code == 200
    assert "It smokes a little." in html
    assert "Please unplug it and send a photo." in html
    assert "Maya Chen" in html  # the agent's name on their public reply
    assert "INTERNAL" not in html
    assert "secret-notes.txt" not in html
    assert people.agent.email not in html
    assert [m.public for m in response.context["messages_list"]] == [True, True]


def test_customer_words_for_status(people: People) -> None:
    ticket = factories.ticket(requester=people.customer.customer)
    actions.update_ticket(ticket, actor=people.agent, via=Via.WEB, changes={"status": Status.ON_HOLD})
    html = client_for(people.customer).get(url(ticket)).content.decode()
    assert '<span class="badge status--open" id="ticket-status">Open</span>' in html
    assert "On hold" not in html

    actions.update_ticket(ticket, actor=people.agent, via=Via.WEB, changes={"status": Status.PENDING})
    html = client_for(people.customer).get(url(ticket)).content.decode()
    assert "Awaiting your reply" in html
    assert "We are waiting for your reply" in html


def test_attachments_download_through_the_api_with_the_session(people: People) -> None:
    ticket = conversation(people)
    public_file = Attachment.objects.get(filename="guide.txt")
    internal_file = Attachment.objects.get(filename="secret-notes.txt")
    customer = client_for(people.customer)

    html = customer.get(url(ticket)).content.decode()
    link = reverse("api:attachment_download", args=[public_file.pk])
    assert f'href="{link}"' in html

    download = customer.get(link)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"unplug first"  # type: ignore[attr-defined]
    # The internal note's file is not the customer's, even by guessing its number.
    assert customer.get(reverse("api:attachment_download", args=[internal_file.pk])).status_code == 404
    # Nor is anyone else's file.
    assert client_for(people.other).get(link).status_code == 404
    assert Client().get(link).status_code == 401


def test_message_html_is_sanitised_and_text_escaped(people: People) -> None:
    ticket = factories.ticket(
        requester=people.customer.customer,
        subject="<img src=x onerror=alert(1)>",
        body_html='<p>Hi <img src=x onerror="alert(2)"></p><script>alert(3)</script>',
    )
    html = client_for(people.customer).get(url(ticket)).content.decode()
    assert "onerror" not in html.replace("&lt;img src=x onerror=alert(1)&gt;", "")
    assert "<script>alert(3)" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_follow_up_links_are_shown_both_ways(people: People) -> None:
    closed = factories.ticket(requester=people.customer.customer)
    actions.update_ticket(closed, actor=people.agent, via=Via.WEB, changes={"status": Status.SOLVED})
    actions.update_ticket(closed, actor=people.agent, via=Via.WEB, changes={"status": Status.CLOSED})
    message = actions.add_message(closed, actor=people.customer, via=Via.WEB, body_text="It broke again")
    follow_up = Ticket.objects.get(pk=message.ticket_id)
    # A link the customer may not follow (a stranger's ticket) is not shown.
    stranger = factories.ticket(requester=people.other.customer)
    TicketLink.objects.create(source=closed, target=stranger, kind=LinkKind.FOLLOW_UP)
    client = client_for(people.customer)

    old_page = client.get(url(closed)).content.decode()
    assert f'Continued in <a href="{url(follow_up)}">' in old_page
    assert url(stranger) not in old_page
    assert "Your reply starts a new request" in old_page
    assert f'Follow-up to <a href="{url(closed)}">' in client.get(url(follow_up)).content.decode()


# --- replying ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.PENDING, Status.ON_HOLD, Status.SOLVED, Status.OPEN])
def test_reply_reopens_per_the_lifecycle(people: People, status: str) -> None:
    ticket = factories.ticket(requester=people.customer.customer)
    actions.update_ticket(ticket, actor=people.agent, via=Via.WEB, changes={"status": status})
    client = client_for(people.customer)

    response = client.post(
        url(ticket),
        {"body": "Here is the photo.", "attachments": [_upload("photo.txt", b"pretend photo")]},
        follow=True,
    )

    reply = ticket.messages.order_by("-id").first()
    assert reply is not None
    assert response.redirect_chain == [(f"{url(ticket)}#message-{reply.pk}", 302)]
    assert (reply.body_text, reply.public, reply.via, reply.author_customer) == (
        "Here is the photo.",
        True,
        Via.WEB,
        people.customer.customer,
    )
    assert [a.filename for a in reply.attachments.all()] == ["photo.txt"]
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert "Your reply was sent." in response.content.decode()


def test_reply_to_a_closed_request_goes_to_a_linked_follow_up(people: People) -> None:
    ticket = factories.ticket(requester=people.customer.customer)
    actions.update_ticket(ticket, actor=people.agent, via=Via.WEB, changes={"status": Status.SOLVED})
    actions.update_ticket(ticket, actor=people.agent, via=Via.WEB, changes={"status": Status.CLOSED})

    response = client_for(people.customer).post(url(ticket), {"body": "Broken again"}, follow=True)

    follow_up = Ticket.objects.exclude(pk=ticket.pk).get()
    assert response.redirect_chain == [(url(follow_up), 302)]
    html = response.content.decode()
    assert f"Request #{ticket.pk} was closed, so your reply started a new request, #{follow_up.pk}" in html
    assert "Broken again" in html
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED


def test_empty_reply_is_refused_next_to_the_field(people: People) -> None:
    ticket = factories.ticket(requester=people.customer.customer)
    before = Message.objects.count()
    response = client_for(people.customer).post(url(ticket), {"body": "   "})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_body_error"' in html
    assert 'aria-invalid="true"' in html
    assert Message.objects.count() == before


def test_refused_attachment_keeps_the_typed_text(people: People) -> None:
    ticket = factories.ticket(requester=people.customer.customer)
    before = Message.objects.count()
    response = client_for(people.customer).post(
        url(ticket), {"body": "My long careful reply", "attachments": [_upload("virus.exe", b"MZ\x90\x00")]}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "My long careful reply</textarea>" in html
    assert 'id="id_attachments_error"' in html
    assert "executable" in html
    assert Message.objects.count() == before


def test_oversized_attachment_is_refused(people: People, settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 10
    ticket = factories.ticket(requester=people.customer.customer)
    response = client_for(people.customer).post(
        url(ticket), {"body": "big file", "attachments": [_upload("big.txt", b"x" * 11)]}
    )
    assert response.status_code == 422
    assert "the limit is 10 bytes" in response.content.decode()


def test_reply_needs_the_csrf_token(people: People) -> None:
    ticket = factories.ticket(requester=people.customer.customer)
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.customer)
    assert client.post(url(ticket), {"body": "forged"}).status_code == 403
    assert ticket.messages.count() == 1


def test_channel_of_a_portal_reply_is_recorded_as_web(people: People) -> None:
    ticket = factories.ticket(requester=people.customer.customer, channel=Channel.EMAIL)
    client_for(people.customer).post(url(ticket), {"body": "via the portal"})
    assert ticket.messages.order_by("-id").values_list("via", flat=True)[0] == Via.WEB


# --- cost --------------------------------------------------------------------------------------


@pytest.mark.parametrize("replies", [1, 12])
def test_query_count_does_not_grow_with_the_conversation(
    people: People, replies: int, django_assert_num_queries: Any
) -> None:
    ticket = factories.ticket(requester=people.customer.customer, ccs=[people.colleague.customer])
    for index in range(replies):
        actor = people.agent if index % 2 else people.customer
        actions.add_message(
            ticket,
            actor=actor,
            via=Via.WEB,
            body_text=f"reply {index}",
            attachments=[IncomingFile(f"{index}.txt", b"x")],
        )
        actions.add_message(ticket, actor=people.agent, via=Via.WEB, public=False, body_text="note")
    client = client_for(people.customer)
    # session, user, customer, organization (for visibility), ticket, CCs, emails, tags,
    # messages, attachments, links, the customer's open surveys about it
    with django_assert_num_queries(12):
        response = client.get(url(ticket))
    assert len(response.context["messages_list"]) == replies + 1


def _upload(name: str, content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/octet-stream")
