"""The managers' scheduled report pages (reports.views): a report made through the form with its
mistakes explained next to their field (422), edited, deleted after confirming; the list with each
recipient's next send, the last delivery and the failures at a fixed number of queries; "send now"
and the delivery log with its errors shown as text and a retry for failed deliveries."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.core import mail as django_mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deskpilot.accounts.models import Role
from deskpilot.reports.models import DeliveryStatus, ReportDelivery, ReportRecipient, ReportSubscription
from deskpilot.tickets.models import Channel
from tests import factories
from tests.pages import client_for
from tests.reports.conftest import staff, subscription

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("pwned")</script>'
HOSTILE_ESCAPED = "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;"
# Queries the base layout makes on any staff page (the unread-notifications count).
LAYOUT_QUERIES = 1


@pytest.fixture
def manager() -> Client:
    return client_for(factories.user(Role.MANAGER))


def form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Weekly for the board",
        "report": "performance",
        "period": "previous_week",
        "hours": "business",
        "frequency": "weekly",
        "weekday": "0",
        "day_of_month": "",
        "send_hour": "8",
        "active": "on",
        "users": [],
        "emails": "",
        "email_time_zone": "UTC",
    }
    data.update(overrides)
    return data


def errors(body: str) -> dict[str, str]:
    """The error text shown next to each field (the ``id_<field>_error`` paragraphs)."""
    found = {}
    for chunk in body.split('id="id_')[1:]:
        name, _, rest = chunk.partition('_error" role="alert">')
        if rest and '"' not in name:
            found[name] = rest.split("</p>")[0]
    return found


def test_a_manager_creates_a_weekly_report_for_staff_and_an_address(manager: Client) -> None:
    paris = staff("Europe/Paris", email="paula@acme.test")
    team = factories.team(name="Billing")
    response = manager.post(
        reverse("reports:schedule_new"),
        form(
            users=[paris.pk], team=team.pk, channel="email", emails="boss@board.test America/New_York\nceo@board.test"
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:schedules")
    made = ReportSubscription.objects.get()
    assert (made.name, made.frequency, made.weekday, made.day_of_month, made.send_hour) == (
        "Weekly for the board", "weekly", 0, None, 8,
    )  # fmt: skip
    assert made.filters == {"team": str(team.pk), "channel": "email", "hours": "business"}
    assert sorted((r.address, r.zone_name) for r in made.recipients.select_related("user")) == [
        ("boss@board.test", "America/New_York"),
        ("ceo@board.test", "UTC"),
        ("paula@acme.test", "Europe/Paris"),
    ]
    body = manager.get(reverse("reports:schedules")).content.decode()
    row = body.split(f'id="schedule-{made.pk}"')[1].split("</tr>")[0]
    assert "Team: Billing" in row
    assert "Channel: Email" in row
    assert "Weekly, Monday" in row
    assert row.count("next <time") == 3


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"name": ""}, {"name": "This field is required."}),
        ({"weekday": ""}, {"weekday": "choose the day of the week it is sent"}),
        ({"frequency": "monthly", "day_of_month": ""}, {"day_of_month": "enter the day of the month it is sent (1 to 31)"}),
        ({"frequency": "monthly", "day_of_month": "32"}, {"day_of_month": "enter a day from 1 to 31 (31: the last day of every month)"}),
        ({"frequency": "hourly"}, {"frequency": "hourly is not a frequency; choose from: daily, weekly, monthly"}),
        ({"send_hour": "24"}, {"send_hour": "24 is not a hour; choose from: " + ", ".join(str(h) for h in range(24))}),
        ({"emails": ""}, {"users": "choose at least one recipient (a staff member or an e-mail address)"}),
        ({"emails": "not-an-address"}, {"emails": "line 1: &#x27;not-an-address&#x27; is not an e-mail address"}),
        ({"emails": "a@b.test Mars/Olympus"}, {"emails": "line 1: &#x27;Mars/Olympus&#x27; is not a time zone (e.g. Europe/Paris)"}),
        ({"channel": "fax"}, {"channel": "fax is not a channel; choose from: " + ", ".join(Channel.values)}),
        ({"organization": "Nobody Inc"}, {"organization": "no organization is named &#x27;Nobody Inc&#x27;"}),
        ({"team": "999999"}, {"team": "that team does not exist (any more)"}),
        ({"hours": "lunar"}, {"hours": "lunar is not a choice; choose from: business, calendar"}),
    ],
)  # fmt: skip
def test_mistakes_are_explained_next_to_their_field_and_nothing_is_saved(
    manager: Client, overrides: dict[str, Any], expected: dict[str, str]
) -> None:
    data = form(emails="boss@board.test")
    data.update(overrides)
    response = manager.post(reverse("reports:schedule_new"), data)
    assert response.status_code == 422
    shown = errors(response.content.decode())
    for name, text in expected.items():
        assert shown.get(name) == text, shown
    assert ReportSubscription.objects.count() == 0


def test_a_staff_recipient_must_be_active_staff(manager: Client) -> None:
    customer = factories.customer_user()
    gone = staff("UTC")
    gone.is_active = False
    gone.save()
    for user in (customer, gone):
        response = manager.post(reverse("reports:schedule_new"), form(users=[user.pk]))
        assert response.status_code == 422
        assert errors(response.content.decode())["users"] == f"{user.pk} is not an active staff member"


def test_what_a_manager_typed_is_shown_as_text(manager: Client) -> None:
    response = manager.post(reverse("reports:schedule_new"), form(name=HOSTILE, tag=HOSTILE, emails="x@y.test"))
    assert response.status_code == 302
    made = ReportSubscription.objects.get()
    ReportDelivery.objects.create(
        subscription=made, address="x@y.test", time_zone="UTC", due_at=timezone.now(),
        period_start=datetime.date(2026, 1, 1), period_end=datetime.date(2026, 1, 1),
        status=DeliveryStatus.FAILED, last_error=HOSTILE,
    )  # fmt: skip
    for url in (
        reverse("reports:schedules"),
        reverse("reports:schedule_edit", args=[made.pk]),
        reverse("reports:deliveries", args=[made.pk]),
        reverse("reports:schedule_delete", args=[made.pk]),
    ):
        body = manager.get(url).content.decode()
        assert HOSTILE not in body, url
        assert HOSTILE_ESCAPED in body, url
    invalid = manager.post(reverse("reports:schedule_new"), form(name=HOSTILE, emails=HOSTILE)).content.decode()
    assert HOSTILE not in invalid


def test_editing_shows_the_values_and_replaces_the_recipients(manager: Client) -> None:
    keep = staff("Asia/Tokyo")
    drop = staff("UTC")
    made = subscription(
        users=[keep, drop], emails=[("old@board.test", "UTC")], now=timezone.now(), name="Daily", send_hour=7
    )
    kept = made.recipients.get(user=keep)
    body = manager.get(reverse("reports:schedule_edit", args=[made.pk])).content.decode()
    assert 'value="Daily"' in body
    assert "old@board.test UTC" in body
    assert f'<option value="{keep.pk}" selected>' in body
    response = manager.post(
        reverse("reports:schedule_edit", args=[made.pk]),
        form(name="Daily", frequency="daily", weekday="", send_hour="9", users=[keep.pk], emails="new@board.test Europe/Paris"),
    )  # fmt: skip
    assert response.status_code == 302
    made.refresh_from_db()
    assert (made.frequency, made.weekday, made.send_hour) == ("daily", None, 9)
    assert sorted(r.address for r in made.recipients.select_related("user")) == sorted([keep.email, "new@board.test"])
    assert made.recipients.get(user=keep).pk == kept.pk  # kept with its log


def test_delete_asks_first_then_deletes_with_the_log(manager: Client) -> None:
    made = subscription(emails=[("a@b.test", "UTC")], now=timezone.now(), name="Gone soon")
    body = manager.get(reverse("reports:schedule_delete", args=[made.pk])).content.decode()
    assert "Delete the scheduled report “Gone soon”?" in body
    assert ReportSubscription.objects.count() == 1
    response = manager.post(reverse("reports:schedule_delete", args=[made.pk]))
    assert response.status_code == 302
    assert ReportSubscription.objects.count() == 0
    assert manager.get(reverse("reports:schedule_edit", args=[made.pk])).status_code == 404


def test_send_now_to_one_recipient_or_all_and_the_log_shows_it(
    manager: Client, pdf_requests: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    one = staff("UTC", email="one@acme.test")
    made = subscription(users=[one], emails=[("two@board.test", "UTC")], now=timezone.now())
    recipient = made.recipients.get(user=one)
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(reverse("reports:send_now", args=[made.pk]), {"recipient": recipient.pk})
    assert response["Location"] == reverse("reports:deliveries", args=[made.pk])
    assert [m.to for m in django_mail.outbox] == [["one@acme.test"]]
    assert [a[0][-4:] for a in django_mail.outbox[0].attachments] == [".pdf", ".csv"]
    with django_capture_on_commit_callbacks(execute=True):
        manager.post(reverse("reports:send_now", args=[made.pk]))
    assert sorted(m.to[0] for m in django_mail.outbox) == ["one@acme.test", "one@acme.test", "two@board.test"]
    body = manager.get(reverse("reports:deliveries", args=[made.pk])).content.decode()
    assert body.count('<tr id="delivery-') == 3
    assert "sent by hand" in body
    # Someone else's recipient, or nonsense: nothing queued.
    other = subscription(emails=[("x@y.test", "UTC")], now=timezone.now(), name="Other")
    stranger = ReportRecipient.objects.get(subscription=other)
    for value in (stranger.pk, "abc"):
        manager.post(reverse("reports:send_now", args=[made.pk]), {"recipient": value})
    assert ReportDelivery.objects.count() == 3


def test_a_failed_delivery_shows_its_error_and_can_be_retried(
    manager: Client, pdf_requests: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    made = subscription(emails=[("a@b.test", "UTC")], now=timezone.now())
    failed = ReportDelivery.objects.create(
        subscription=made, recipient=made.recipients.get(), address="a@b.test", time_zone="UTC",
        due_at=timezone.now(), period_start=datetime.date(2026, 1, 1), period_end=datetime.date(2026, 1, 1),
        status=DeliveryStatus.FAILED, attempts=4, last_error="cannot reach the mail server 127.0.0.1:25",
    )  # fmt: skip
    body = manager.get(reverse("reports:deliveries", args=[made.pk])).content.decode()
    assert "cannot reach the mail server 127.0.0.1:25" in body
    assert reverse("reports:retry", args=[made.pk, failed.pk]) in body
    listed = manager.get(reverse("reports:schedules")).content.decode()
    assert f'href="/reports/schedules/{made.pk}/deliveries?status=failed"><strong>1</strong>' in listed
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(reverse("reports:retry", args=[made.pk, failed.pk]))
    assert response.status_code == 302
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (DeliveryStatus.SENT, 1)
    # A sent one cannot be retried; it says why.
    again = manager.post(reverse("reports:retry", args=[made.pk, failed.pk]), follow=True).content.decode()
    assert "Not retried: delivery: only a failed delivery can be retried" in again
    other = subscription(emails=[("x@y.test", "UTC")], now=timezone.now(), name="Other")
    assert manager.post(reverse("reports:retry", args=[other.pk, failed.pk])).status_code == 404


def test_the_log_filters_by_status_and_refuses_nonsense(manager: Client) -> None:
    made = subscription(emails=[("a@b.test", "UTC")], now=timezone.now())
    url = reverse("reports:deliveries", args=[made.pk])
    assert manager.get(url + "?status=failed").status_code == 200
    response = manager.get(url + "?status=lost")
    assert response.status_code == 422
    assert "status: lost is not a status" in response.content.decode()
    assert manager.get(url + "?cursor=garbage").status_code == 422


def test_the_list_costs_the_same_for_many_reports(manager: Client, django_assert_max_num_queries: Any) -> None:
    team = factories.team(name="Support")

    def add(count: int) -> ReportSubscription:
        made = None
        for n in range(count):
            made = subscription(
                users=[staff("Europe/Paris")], emails=[("a@b.test", "UTC")], now=timezone.now(),
                name=f"Report {ReportSubscription.objects.count()}", filters={"team": str(team.pk)},
            )  # fmt: skip
            ReportDelivery.objects.create(
                subscription=made, address="a@b.test", time_zone="UTC", due_at=timezone.now(),
                period_start=datetime.date(2026, 1, 1), period_end=datetime.date(2026, 1, 1),
                status=DeliveryStatus.FAILED if n % 2 else DeliveryStatus.SENT,
            )  # fmt: skip
        assert made is not None
        return made

    add(2)
    url = reverse("reports:schedules")
    manager.get(url)
    # Session, user, reports (with their last delivery and failures), recipients with their
    # users, the teams named in filters; and what the layout reads.
    with django_assert_max_num_queries(5 + LAYOUT_QUERIES) as small:
        body = manager.get(url).content.decode()
    assert body.count("Team: Support") == 2
    add(8)
    with django_assert_max_num_queries(len(small)):
        body = manager.get(url).content.decode()
    assert body.count('<tr id="schedule-') == 10


def test_the_next_send_is_in_each_recipients_zone(manager: Client) -> None:
    tokyo = staff("Asia/Tokyo")
    made = subscription(users=[tokyo], now=timezone.now(), send_hour=8)
    with time_machine.travel(datetime.datetime(2026, 12, 3, 12, tzinfo=datetime.UTC), tick=False):
        body = manager.get(reverse("reports:schedule_edit", args=[made.pk])).content.decode()
    # 08:00 on Friday 4 Dec in Tokyo is 23:00 UTC on the 3rd.
    assert 'datetime="2026-12-03T23:00:00+00:00"' in body


def test_agents_and_customers_meet_a_404_and_the_anonymous_sign_in() -> None:
    made = subscription(emails=[("a@b.test", "UTC")], now=timezone.now())
    urls = [reverse("reports:schedules"), reverse("reports:schedule_edit", args=[made.pk])]
    for user in (factories.user(Role.AGENT), factories.customer_user()):
        for url in urls:
            assert client_for(user).get(url).status_code == 404
    for url in urls:
        response = Client().get(url)
        assert response.status_code == 302
        assert "/signin" in response["Location"] or "login" in response["Location"]
    admin = client_for(factories.user(Role.ADMIN))
    assert admin.get(urls[0]).status_code == 200
    assert client_for(factories.user(Role.AGENT)).post(reverse("reports:send_now", args=[made.pk])).status_code == 404
    assert ReportDelivery.objects.count() == 0


def test_a_new_report_takes_its_filters_from_the_performance_pages_parameters(manager: Client) -> None:
    team = factories.team(name="Billing")
    org = factories.organization(name="Northwind Traders")
    query = f"?team={team.pk}&channel=email&organization={org.pk}&tag=vip&hours=calendar&priority=nonsense"
    body = manager.get(reverse("reports:schedule_new") + query).content.decode()
    assert f'<option value="{team.pk}" selected>Billing</option>' in body
    assert '<option value="email" selected>' in body
    assert 'value="Northwind Traders"' in body
    assert 'name="tag" value="vip"' in body
    assert '<option value="calendar" selected>' in body
    assert '<option value="" selected>All priorities</option>' in body  # nonsense is left out
