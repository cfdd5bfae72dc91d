"""reports.models: what the database itself refuses, so no code path can store a recipient that
is neither a user nor an address, the same recipient twice, or an hour that does not exist."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from deskpilot.reports.models import ReportRecipient, ReportSubscription
from tests.reports.conftest import staff

pytestmark = pytest.mark.django_db


def refused(**fields: object) -> bool:
    try:
        with transaction.atomic():
            ReportRecipient.objects.create(**fields)
    except IntegrityError:
        return True
    return False


def test_a_recipient_is_a_user_or_an_address_once_each() -> None:
    report = ReportSubscription.objects.create(name="R")
    user = staff("Europe/Paris")
    assert not refused(subscription=report, user=user)
    assert not refused(subscription=report, email="a@b.test", time_zone="UTC")
    assert refused(subscription=report, user=user)  # twice
    assert refused(subscription=report, email="a@b.test", time_zone="Asia/Tokyo")  # twice
    assert refused(subscription=report)  # neither
    assert refused(subscription=report, user=staff("UTC"), email="c@d.test")  # both
    recipient = ReportRecipient.objects.get(user=user)
    assert (recipient.address, recipient.zone_name) == (user.email, "Europe/Paris")
    other = ReportRecipient.objects.get(email="a@b.test")
    assert (other.address, other.zone_name, other.label) == ("a@b.test", "UTC", "a@b.test")


@pytest.mark.parametrize("fields", [{"send_hour": 24}, {"day_of_month": 0}, {"day_of_month": 32}])
def test_an_hour_or_day_that_does_not_exist_is_refused(fields: dict[str, int]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        ReportSubscription.objects.create(name="R", **fields)
