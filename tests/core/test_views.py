"""The managers' overview (/manage/) and staff notifications (/notifications): the header's bell,
the list, opening one, marking all read; only one's own notifications, never another's."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from deskpilot.accounts.models import Role, User
from deskpilot.core.models import Notification
from deskpilot.core.views import NOTIFICATIONS_PER_PAGE
from deskpilot.tickets.models import Ticket
from tests import factories
from tests.pages import client_for

pytestmark = pytest.mark.django_db


def notice(user: User, subject: str = "SLA breached: #1", ticket: Ticket | None = None, **extra: Any) -> Notification:
    return Notification.objects.create(user=user, subject=subject, ticket=ticket, **extra)


def nav_labels(body: str) -> list[str]:
    nav = re.search(r'<nav class="topnav"[^>]*>(.*?)</nav>', body, re.S)
    assert nav is not None
    return re.findall(r">([^<]+)</a>", nav.group(1))


# --- navigation and the overview -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "labels"),
    [
        (Role.AGENT, ["Inbox", "Search"]),
        (Role.COLLABORATOR, ["Inbox", "Search"]),
        (Role.MANAGER, ["Inbox", "Search", "Operations", "Performance", "Manage", "Admin"]),
        (Role.ADMIN, ["Inbox", "Search", "Operations", "Performance", "Manage", "Admin"]),
    ],
)
def test_the_navigation_offers_operations_and_manage_to_managers_and_admins_only(role: str, labels: list[str]) -> None:
    body = client_for(factories.user(role)).get(reverse("tickets:inbox")).content.decode()
    assert nav_labels(body) == labels


def test_the_overview_links_every_managers_page_and_each_opens() -> None:
    client = client_for(factories.user(Role.MANAGER))
    response = client.get(reverse("core:manage"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'aria-current="page">Manage<' in body
    links = re.findall(r'class="manage-card-title" href="([^"]+)"', body)
    expected = [
        reverse(name)
        for name in (
            "policies:sla_list", "policies:escalation_list", "policies:calendar_list", "routing:teams",
            "rules:trigger_list", "rules:automation_list", "rules:macro_list", "webhooks:list", "targets:list",
            "reports:schedules", "feedback_manage:list", "feedback_follow_ups:list", "mail_inbound:failed", "mail_inbound:spam",
        )
    ]  # fmt: skip
    assert links == expected
    for link in links:
        assert client.get(link).status_code == 200, link


# --- the bell ------------------------------------------------------------------------------------


def test_the_bell_counts_only_ones_own_unread_notifications() -> None:
    agent, other = factories.user(Role.AGENT), factories.user(Role.AGENT)
    notice(agent)
    notice(agent, "Escalated: #2")
    notice(agent, "Old news", read_at="2026-01-01T00:00:00Z")
    notice(other, "Someone else's")
    body = client_for(agent).get(reverse("tickets:inbox")).content.decode()
    assert 'aria-label="Notifications, 2 unread"' in body
    assert '<span class="notification-count" aria-hidden="true">2</span>' in body


def test_the_bell_has_no_count_when_all_is_read_and_customers_have_no_bell() -> None:
    agent = factories.user(Role.AGENT)
    body = client_for(agent).get(reverse("tickets:inbox")).content.decode()
    assert 'aria-label="Notifications"' in body
    assert "notification-count" not in body
    customer = factories.customer_user()
    assert "notification-bell" not in client_for(customer).get(reverse("portal:tickets")).content.decode()


# --- the list --------------------------------------------------------------------------------------


def test_the_list_shows_ones_own_notifications_newest_first_escaped() -> None:
    agent, other = factories.user(Role.AGENT), factories.user(Role.AGENT)
    ticket = factories.ticket()
    notice(agent, "First", ticket=ticket, created_at="2026-05-01T10:00:00Z")
    notice(agent, "<script>alert(1)</script> breach", text="Line one\n<b>bold</b>", created_at="2026-05-02T10:00:00Z")
    notice(other, "Not yours")
    body = client_for(agent).get(reverse("core:notifications")).content.decode()
    assert body.index("breach") < body.index("First")
    assert "Not yours" not in body
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; breach" in body
    assert "&lt;b&gt;bold&lt;/b&gt;" in body
    assert f"#{ticket.pk}" in body


def test_the_unread_filter_and_paging(django_assert_max_num_queries: Any) -> None:
    agent = factories.user(Role.AGENT)
    for n in range(NOTIFICATIONS_PER_PAGE + 5):
        notice(agent, f"Notice {n:03d}", ticket=None, read_at="2026-01-01T00:00:00Z" if n % 2 else None)
    client = client_for(agent)
    with django_assert_max_num_queries(8):
        body = client.get(reverse("core:notifications")).content.decode()
    assert body.count('class="notification--') == NOTIFICATIONS_PER_PAGE
    assert "Page 1 of 2" in body
    second = client.get(reverse("core:notifications") + "?page=2").content.decode()
    assert second.count('class="notification--') == 5
    unread = client.get(reverse("core:notifications") + "?show=unread").content.decode()
    assert unread.count('class="notification--unread"') == 28
    assert 'class="notification--read"' not in unread


def test_an_empty_list_says_what_will_appear_there() -> None:
    body = client_for(factories.user(Role.AGENT)).get(reverse("core:notifications")).content.decode()
    assert "No notifications yet" in body


# --- opening and marking read ----------------------------------------------------------------------


def test_opening_a_notification_marks_it_read_and_goes_to_its_ticket() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    row = notice(agent, ticket=ticket)
    response = client_for(agent).post(reverse("core:notification_open", args=[row.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:ticket", args=[ticket.pk])
    row.refresh_from_db()
    assert row.read_at is not None


def test_a_notification_whose_ticket_is_no_longer_visible_goes_back_to_the_list() -> None:
    collaborator = factories.user(Role.COLLABORATOR)  # sees only tickets they follow
    row = notice(collaborator, ticket=factories.ticket())
    client = client_for(collaborator)
    response = client.post(reverse("core:notification_open", args=[row.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("core:notifications")
    assert "no longer yours to see" in response.content.decode()
    row.refresh_from_db()
    assert row.read_at is not None


def test_nobody_opens_anothers_notification() -> None:
    owner, other = factories.user(Role.AGENT), factories.user(Role.MANAGER)
    row = notice(owner)
    assert client_for(other).post(reverse("core:notification_open", args=[row.pk])).status_code == 404
    row.refresh_from_db()
    assert row.read_at is None


def test_mark_all_read_touches_only_ones_own_unread() -> None:
    agent, other = factories.user(Role.AGENT), factories.user(Role.AGENT)
    old = notice(agent, read_at="2026-01-01T00:00:00Z")
    mine = [notice(agent), notice(agent)]
    theirs = notice(other)
    response = client_for(agent).post(reverse("core:notifications_read_all"), follow=True)
    assert "2 notifications marked read." in response.content.decode()
    assert all(Notification.objects.get(pk=n.pk).read_at is not None for n in mine)
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert str(Notification.objects.get(pk=old.pk).read_at).startswith("2026-01-01")
