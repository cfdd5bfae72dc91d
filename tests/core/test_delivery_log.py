"""core.delivery_log: the filter names a wrong status and lists the right ones; the page links
keep the filter; the pages themselves are tested through both logs (webhooks, reports)."""

from __future__ import annotations

from django.db.models import TextChoices
from django.http import QueryDict

from deskpilot.core import delivery_log


class Status(TextChoices):
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Filter(delivery_log.DeliveryFilterForm):
    statuses = Status


def test_the_filter_offers_all_and_each_status_and_names_a_wrong_one() -> None:
    form = Filter({"status": "lost"})
    assert not form.is_valid()
    assert form.errors["status"] == ["lost is not a status; choose from: sent, failed"]
    assert [value for value, _ in form.fields["status"].choices] == ["", "sent", "failed"]  # type: ignore[attr-defined]
    assert Filter({"status": "failed"}).is_valid()
    assert Filter({}).is_valid()


def test_page_links_keep_the_filter_and_replace_the_cursor() -> None:
    params = QueryDict("status=failed&cursor=abc")
    assert delivery_log.with_cursor(params, "next") == "?status=failed&cursor=next"
    assert delivery_log.with_cursor(params, None) == "?status=failed"
