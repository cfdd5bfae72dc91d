"""The agent's ticket page (GET /tickets/<id>): who may open it, what it shows, that stored HTML
stays inert, and that its query count does not grow with the conversation."""

from __future__ import annotations

import datetime
import re
import zoneinfo

import pytest
from django.test import Client
from django.utils import timezone

from deskpilot.accounts.models import Role, User
from deskpilot.tickets import actions
from deskpilot.tickets.attachments import IncomingFile
from deskpilot.tickets.models import CustomField, FieldKind, Message, Status, Ticket, Via
from tests import factories
from tests.pages import client_for

pytestmark = pytest.mark.django_db


def page(user: User, ticket: Ticket) -> str:
    response = client_for(user).get(f"/tickets/{ticket.pk}")
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def conversation_ticket(agent: User, messages: int, *, files_per_message: int = 0) -> Ticket:
    """A ticket with ``messages`` messages in all, alternating customer and agent, every third
    one an internal note, each with ``files_per_message`` attachments."""
    requester = factories.customer(name="Dana Scully")
    ticket = factories.ticket(requester=requester, subject="Invoice charged twice")
    for n in range(1, messages):
        files = [IncomingFile(f"file-{n}-{i}.txt", f"content {n} {i}".encode()) for i in range(files_per_message)]
        if n % 3 == 2:
            actions.add_message(
                ticket, actor=agent, via=Via.WEB, body_text=f"note {n}", public=False, attachments=files
            )
        elif n % 2:
            actions.add_message(ticket, actor=agent, via=Via.WEB, body_text=f"reply {n}", attachments=files)
        else:
            actions.add_message(ticket, actor=requester, via=Via.EMAIL, body_text=f"answer {n}", attachments=files)
    return ticket


# --- who may open it ---------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in() -> None:
    ticket = factories.ticket()
    response = Client().get(f"/tickets/{ticket.pk}")
    assert response.status_code == 302
    assert response["Location"] == f"/signin?next=/tickets/{ticket.pk}"


@pytest.mark.parametrize("role", [Role.AGENT, Role.MANAGER, Role.ADMIN])
def test_agents_managers_and_admins_open_any_ticket(role: str) -> None:
    ticket = factories.ticket(subject="Printer on fire")
    body = page(factories.user(role), ticket)
    assert "Printer on fire" in body
    assert f'action="/tickets/{ticket.pk}/update"' in body


def test_customers_get_404_even_for_their_own_ticket() -> None:
    account = factories.customer_user()
    ticket = factories.ticket(requester=account.customer)
    assert client_for(account).get(f"/tickets/{ticket.pk}").status_code == 404


def test_collaborators_see_only_tickets_they_follow_or_are_assigned() -> None:
    collaborator = factories.user(Role.COLLABORATOR)
    agent = factories.user(Role.AGENT)
    followed = factories.ticket()
    actions.update_ticket(followed, actor=agent, via=Via.WEB, changes={"followers": [collaborator]})
    other = factories.ticket()
    client = client_for(collaborator)
    assert client.get(f"/tickets/{followed.pk}").status_code == 200
    assert client.get(f"/tickets/{other.pk}").status_code == 404


def test_a_missing_ticket_is_404() -> None:
    assert client_for(factories.user(Role.AGENT)).get("/tickets/999999").status_code == 404


def test_a_deactivated_agent_is_signed_out() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    client = client_for(agent)
    User.objects.filter(pk=agent.pk).update(is_active=False)
    response = client.get(f"/tickets/{ticket.pk}")
    # The session no longer finds an active user: back to the sign-in page, nothing shown.
    assert response.status_code == 302
    assert response["Location"].startswith("/signin?next=")


# --- what it shows -----------------------------------------------------------------------------


def test_header_conversation_and_internal_notes() -> None:
    agent = factories.user(Role.AGENT, name="Maya Chen")
    ticket = conversation_ticket(agent, 4)
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": "high"})
    body = page(agent, ticket)
    assert f"#{ticket.pk}" in body
    assert "Invoice charged twice" in body
    assert 'class="badge status--open"' in body
    assert 'class="badge priority--high"' in body
    # Oldest first: the first message, then the agent's reply, the note, the customer's answer.
    order = [body.index(text) for text in ("Something does not work.", "reply 1", "note 2", "reply 3")]
    assert order == sorted(order)
    note = re.search(r'<li id="message-\d+" class="message message--internal">(.*?)</li>', body, re.S)
    assert note
    assert "Internal note" in note.group(1)
    assert "note 2" in note.group(1)
    assert re.search(
        r'class="message message--agent">\s*<div class="message-head">\s*<span class="message-author">\s*<strong>Maya Chen</strong>\s*<span class="muted">Agent</span>',
        body,
    )
    assert body.count('class="message"') == 1  # the customer's first message: neither internal nor agent
    assert 'data-reply-input=""' in body
    assert '<label for="id_reply-body">' in body


def test_timestamps_are_in_the_viewers_time_zone() -> None:
    agent = factories.user(Role.AGENT, time_zone="Asia/Tokyo")
    created = datetime.datetime(2025, 1, 15, 23, 30, tzinfo=datetime.UTC)
    ticket = factories.ticket(at=created)
    body = page(agent, ticket)
    local = created.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert f'title="{local.strftime("%a %b %-d %Y, %H:%M JST")}"' in body  # Jan 16, 08:30 in Tokyo


def test_attachments_are_download_links_with_their_size() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket(attachments=[IncomingFile("invoice.pdf", b"%PDF-1.4 " + b"x" * 2000)])
    body = page(agent, ticket)
    attachment = Message.objects.get(ticket=ticket).attachments.get()
    assert f'href="/api/v1/attachments/{attachment.pk}" download>invoice.pdf</a>' in body
    assert "2.0\xa0KB" in body
    # The link works for the signed-in agent (the API accepts the page's session).
    download = client_for(agent).get(f"/api/v1/attachments/{attachment.pk}")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]


def test_customer_html_stays_inert_and_other_text_is_escaped() -> None:
    agent = factories.user(Role.AGENT)
    requester = factories.customer(name="Mallory <b>Evil</b>")
    ticket = factories.ticket(
        requester=requester,
        subject="<img src=x onerror=alert('subject')>",
        body_html='<p>Look <img src=x onerror="alert(1)"></p><script>alert("script")</script><a href="javascript:alert(2)">x</a>',
    )
    actions.add_message(ticket, actor=requester, via=Via.EMAIL, body_text="<script>alert('text')</script> plain")
    body = page(agent, ticket)
    main = body[body.index('<main id="main"') :]
    assert "<script>alert" not in main
    assert "onerror" not in main.replace("onerror=alert(&#x27;subject&#x27;)", "")
    assert "javascript:" not in main
    assert "&lt;img src=x onerror=alert(&#x27;subject&#x27;)&gt;" in main  # the subject, as text
    assert "Mallory &lt;b&gt;Evil&lt;/b&gt;" in main
    assert "&lt;script&gt;alert(&#x27;text&#x27;)&lt;/script&gt; plain" in main


def test_side_panel_has_current_values_custom_fields_and_people() -> None:
    agent = factories.user(Role.AGENT, name="Maya Chen")
    other_agent = factories.user(Role.AGENT, name="Jonas Weber")
    team = factories.team(name="Billing", members=[agent])
    CustomField.objects.create(key="plan", label="Plan", kind=FieldKind.DROPDOWN, choices=["free", "pro"], position=1)
    CustomField.objects.create(key="seats", label="Seats", kind=FieldKind.NUMBER, position=2)
    CustomField.objects.create(key="renewal", label="Renewal date", kind=FieldKind.DATE, position=3)
    CustomField.objects.create(key="vip", label="VIP", kind=FieldKind.CHECKBOX, position=4)
    CustomField.objects.create(key="order", label="Order number", kind=FieldKind.TEXT, position=5)
    cc = factories.customer(name="Carbon Copy", email="cc@example.test")
    ticket = factories.ticket(tags=["billing"], ccs=[cc], actor=agent, custom_fields={"plan": "pro", "seats": 12})
    actions.update_ticket(
        ticket, actor=agent, via=Via.WEB, changes={"team": team, "assignee": agent, "followers": [other_agent]}
    )
    body = page(agent, ticket)
    assert re.search(rf'<option value="{team.pk}" selected>Billing</option>', body)
    assert re.search(
        rf'<option value="{agent.pk}" data-teams="{team.pk}" x-bind:hidden="[^"]+" selected>Maya Chen</option>', body
    )
    assert re.search(rf'<option value="{other_agent.pk}" data-teams=""', body)  # in no team
    assert 'name="tags" value="billing"' in body
    assert '<option value="pro" selected>pro</option>' in body
    assert re.search(r'<input type="number" name="cf_seats" value="12" step="any"', body)
    assert '<input type="date" name="cf_renewal"' in body
    assert '<input type="checkbox" name="cf_vip"' in body
    assert '<input type="text" name="cf_order"' in body
    assert f'name="expected_version" value="{ticket.version}"' in body
    assert "Carbon Copy" in body
    assert "cc@example.test" in body
    assert "Jonas Weber" in body


def test_requester_panel_lists_their_other_tickets_newest_first() -> None:
    agent = factories.user(Role.AGENT)
    organization = factories.organization(name="Northwind Traders")
    requester = factories.customer(name="Dana Scully", email="dana@northwind.test", organization=organization)
    requester.time_zone = "Europe/Berlin"
    requester.save()
    older = [factories.ticket(requester=requester, subject=f"Older question {n}") for n in range(12)]
    ticket = factories.ticket(requester=requester, subject="The current one")
    factories.ticket(subject="Someone else's")
    body = page(agent, ticket)
    panel = body[body.index('id="requester-title"') :]
    panel = panel[: panel.index("</section>")]
    assert "dana@northwind.test" in panel
    assert "Northwind Traders" in panel
    assert "Europe/Berlin" in panel
    now_berlin = timezone.localtime(timezone=zoneinfo.ZoneInfo("Europe/Berlin"))
    assert now_berlin.strftime("%a ") in panel
    listed = re.findall(r'href="/tickets/(\d+)">#\d+ ([^<]+)</a>', panel)
    assert [int(pk) for pk, _ in listed] == [t.pk for t in reversed(older)][:10]
    assert "The current one" not in panel
    assert "Someone else" not in panel


def test_collaborators_see_a_read_only_panel_and_write_only_internal_notes() -> None:
    collaborator = factories.user(Role.COLLABORATOR)
    ticket = factories.ticket()
    actions.update_ticket(ticket, actor=factories.user(Role.AGENT), via=Via.WEB, changes={"followers": [collaborator]})
    body = page(collaborator, ticket)
    assert "/update" not in body
    assert "/merge" not in body
    assert 'value="internal"' in body
    assert 'value="public"' not in body
    assert 'name="reply-status"' not in body
    assert "composer composer--internal" in body


def test_a_closed_ticket_is_read_only_with_a_note() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.SOLVED})
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.CLOSED})
    body = page(agent, ticket)
    assert "Closed tickets cannot change" in body
    assert "A reply from the customer starts a follow-up" in body
    assert "/update" not in body
    assert "/reply" not in body
    assert "/merge" not in body


def test_history_reads_as_sentences_newest_last_and_shows_links() -> None:
    agent = factories.user(Role.AGENT, name="Maya Chen")
    team = factories.team(name="Billing", members=[agent])
    ticket = factories.ticket()
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.PENDING})
    actions.update_ticket(ticket, actor=agent, via=Via.API, changes={"team": team, "assignee": agent})
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"tags": ["vip", "refund"]})
    other = factories.ticket()
    actions.merge_tickets(other, ticket, actor=agent, via=Via.WEB)
    body = page(agent, ticket)
    history = body[body.index('<details class="card history-card"') :]
    history = history[: history.index("</details>")]
    lines = [re.sub(r"<[^>]+>", "", li).split("·")[0].strip() for li in re.findall(r"<li>(.*?)</li>", history, re.S)]
    expected = [
        "Maya Chen changed status from New to Pending",
        "Maya Chen changed team from none to Billing",
        "Maya Chen changed assignee from nobody to Maya Chen",
        "Maya Chen added tags refund, vip",
        f"Maya Chen merged #{other.pk} into this ticket (1 message)",
        f"Maya Chen added CCs {other.requester.name}",
    ]
    assert lines[-len(expected) :] == expected, lines
    assert f'<a href="/tickets/{other.pk}">#{other.pk}</a>' in history
    assert "via api" in history
    assert "via web" in history
    assert "Merged into this" in body  # the links panel shows the merged ticket


# --- query counts ------------------------------------------------------------------------------


@pytest.mark.parametrize(("messages", "files"), [(2, 0), (20, 0), (20, 2)])
def test_query_count_does_not_grow_with_the_conversation(django_assert_num_queries, messages, files) -> None:
    agent = factories.user(Role.AGENT)
    team = factories.team(members=[agent, factories.user(Role.AGENT)])
    ticket = conversation_ticket(agent, messages, files_per_message=files)
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"team": team, "assignee": agent})
    for n in range(3):
        factories.ticket(requester=ticket.requester, subject=f"other {n}")
    client = client_for(agent)
    # session, user, ticket, CCs, tags, e-mail addresses, followers, messages, attachments, links,
    # events, custom fields, teams, agents, team members, other tickets, inbound and outbound mail,
    # the SLA clock's events and the SLA policies' stamp, the header's unread notifications
    with django_assert_num_queries(21):
        response = client.get(f"/tickets/{ticket.pk}")
    assert response.status_code == 200
    assert response.content.decode().count('<li id="message-') == messages


def test_requester_panel_lists_only_tickets_the_viewer_may_see() -> None:
    collaborator = factories.user(Role.COLLABORATOR)
    agent = factories.user(Role.AGENT)
    requester = factories.customer()
    followed = [factories.ticket(requester=requester, subject=f"Followed {n}") for n in range(2)]
    factories.ticket(requester=requester, subject="Not theirs")
    for ticket in followed:
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"followers": [collaborator]})
    body = page(collaborator, followed[1])
    assert f'href="/tickets/{followed[0].pk}">#{followed[0].pk} Followed 0</a>' in body
    assert "Not theirs" not in body


def test_a_collaborators_page_costs_fewer_queries(django_assert_num_queries) -> None:
    collaborator = factories.user(Role.COLLABORATOR)
    agent = factories.user(Role.AGENT)
    ticket = conversation_ticket(agent, 6, files_per_message=1)
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"followers": [collaborator]})
    client = client_for(collaborator)
    # No side-panel choices (teams, agents, memberships): read-only.
    with django_assert_num_queries(16):
        assert client.get(f"/tickets/{ticket.pk}").status_code == 200


def test_a_collaborator_sees_only_the_linked_tickets_they_may_open() -> None:
    """Security review, 2026-11-23: a link listed the subject and status of any linked ticket."""
    agent = factories.user(Role.AGENT)
    collaborator = factories.user(Role.COLLABORATOR)
    followed = factories.ticket(subject="Followed printer issue")
    secret = factories.ticket(subject="SECRET merger with ACME")
    also_followed = factories.ticket(subject="Also followed")
    for ticket in (followed, also_followed):
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"followers": [collaborator]})
    actions.link_tickets(followed, secret, actor=agent, via=Via.WEB)
    actions.link_tickets(followed, also_followed, actor=agent, via=Via.WEB)
    body = page(collaborator, followed)
    assert "SECRET merger" not in body
    assert "Also followed" in body
    assert "SECRET merger" in page(agent, followed)
