"""The public request form (/request): anyone may send one; bots are turned away by a honeypot,
a minimum fill time and a per-address rate limit; a request is all-or-nothing."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from deskpilot.customers.models import Customer, CustomerEmail
from deskpilot.portal.forms import fill_stamp
from deskpilot.tickets.models import Channel, Message, Status, Ticket, Via
from tests.portal.conftest import People, client_for

URL = reverse("portal:public_request")
THANKS = reverse("portal:public_thanks")
pytestmark = pytest.mark.django_db


def form(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Leslie Knope",
        "email": "Leslie@Pawnee.test",
        "subject": "Park permit portal is down",
        "description": "The permit page shows an error.",
        "website": "",
        # Shown ten seconds ago: a person's pace.
        "started": fill_stamp(time.time() - 10),
    }
    data.update(overrides)
    return data


@pytest.fixture(autouse=True)
def _fresh_rate_limit() -> None:
    from django.core.cache import cache

    cache.clear()


@pytest.mark.parametrize("who", [None, "customer", "agent"])
def test_anyone_may_open_the_form(people: People, who: str | None) -> None:
    response = client_for(getattr(people, who) if who else None).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("name", "email", "subject", "description", "attachments"):
        assert f'<label for="id_{name}">' in html
    # The honeypot: hidden by class, labelled for what it is, out of the tab order.
    honeypot = re.search(r'<div class="honeypot"[^>]*>.*?</div>', html, re.S)
    assert honeypot is not None
    assert "Leave this empty" in honeypot.group(0)
    assert 'tabindex="-1"' in honeypot.group(0)
    assert 'autocomplete="off"' in honeypot.group(0)
    assert 'name="started"' in html


def test_a_request_creates_customer_and_ticket_then_thanks(people: People) -> None:
    attachment = SimpleUploadedFile("error.txt", b"HTTP 500", content_type="text/plain")
    client = Client()
    response = client.post(URL, form(attachments=[attachment]), follow=True)

    ticket = Ticket.objects.get()
    assert response.redirect_chain == [(THANKS, 302)]
    html = response.content.decode()
    assert f"Your request number is <strong>#{ticket.pk}</strong>" in html
    assert "leslie@pawnee.test" in html
    # The way to follow it online: a one-time sign-in link.
    assert f'action="{reverse("accounts:signin_link_request")}"' in html
    assert 'value="leslie@pawnee.test"' in html
    customer = Customer.objects.get(emails__address__iexact="leslie@pawnee.test")
    assert customer.name == "Leslie Knope"
    assert (ticket.requester, ticket.channel, ticket.status) == (customer, Channel.WEB, Status.NEW)
    message = Message.objects.get()
    assert (message.via, message.author_customer, message.body_text) == (
        Via.WEB,
        customer,
        "The permit page shows an error.",
    )
    assert [a.filename for a in message.attachments.all()] == ["error.txt"]
    # Reloading the thank-you page does not send the request again.
    assert client.get(THANKS).status_code == 200
    assert Ticket.objects.count() == 1


def test_a_known_address_finds_its_customer(people: People) -> None:
    Client().post(URL, form(email="DANA@northwind.test", name="Someone Else"))
    ticket = Ticket.objects.get()
    assert ticket.requester == people.customer.customer
    assert CustomerEmail.objects.filter(address__iexact="dana@northwind.test").count() == 1


def test_the_thank_you_page_needs_a_request_first() -> None:
    response = Client().get(THANKS)
    assert response.status_code == 302
    assert response["Location"] == URL


def test_a_filled_honeypot_succeeds_silently_and_stores_nothing() -> None:
    response = Client().post(URL, form(website="http://spam.test"), follow=True)
    assert response.redirect_chain == [(THANKS, 302)]
    assert "We received your request" in response.content.decode()
    assert Ticket.objects.count() == 0
    assert Customer.objects.count() == 0


def test_a_form_sent_too_fast_is_refused_gently_with_the_text_kept() -> None:
    client = Client()
    page = client.get(URL).content.decode()
    stamp = re.search(r'name="started" value="([^"]+)"', page)
    assert stamp is not None

    response = client.post(URL, form(started=stamp.group(1)))

    assert response.status_code == 422
    html = response.content.decode()
    assert "That was quick! Please check your request, then press Send again." in html
    assert "The permit page shows an error.</textarea>" in html
    # The same stamp goes back, so sending again a moment later works.
    assert stamp.group(1) in html
    assert Ticket.objects.count() == 0
    assert Customer.objects.count() == 0


STAMPS = {
    "missing": lambda: "",
    "forged": lambda: "forged",
    "signed for another purpose": lambda: signing.dumps(time.time() - 10, salt="another purpose"),
    "three days old": lambda: fill_stamp(time.time() - 3 * 24 * 3600),
}


@pytest.mark.parametrize("kind", list(STAMPS))
def test_a_missing_forged_or_stale_stamp_is_refused(kind: str) -> None:
    started = STAMPS[kind]()
    response = Client().post(URL, form(started=started))
    assert response.status_code == 422
    html = response.content.decode()
    assert "Please press Send again." in html
    # A fresh stamp comes back with the form.
    fresh = re.search(r'name="started" value="([^"]+)"', html)
    assert fresh is not None
    assert fresh.group(1) != started
    assert Ticket.objects.count() == 0


def test_rate_limit_per_client_address(settings: Any) -> None:
    settings.PUBLIC_FORM_MAX_PER_HOUR = 2
    client = Client(REMOTE_ADDR="203.0.113.7")
    for index in range(2):
        assert client.post(URL, form(subject=f"Request {index}")).status_code == 302
    # Honeypot hits count too, so a bot cannot hammer the form either.
    limited = client.post(URL, form(subject="Request 3"))
    assert limited.status_code == 429
    assert "Too many requests" in limited.content.decode()
    assert Ticket.objects.count() == 2
    # Another address is not affected.
    assert Client(REMOTE_ADDR="198.51.100.1").post(URL, form(subject="Elsewhere")).status_code == 302
    assert Ticket.objects.count() == 3


def test_honeypot_hits_count_against_the_limit(settings: Any) -> None:
    settings.PUBLIC_FORM_MAX_PER_HOUR = 1
    client = Client(REMOTE_ADDR="203.0.113.8")
    assert client.post(URL, form(website="spam")).status_code == 302
    assert client.post(URL, form()).status_code == 429
    assert Ticket.objects.count() == 0


def test_field_errors_are_next_to_the_field() -> None:
    response = Client().post(URL, form(email="not-an-address", subject=""))
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_email_error"' in html
    assert 'id="id_subject_error"' in html
    assert 'value="Leslie Knope"' in html
    assert Customer.objects.count() == 0


def test_an_action_failure_leaves_no_half_created_customer() -> None:
    executable = SimpleUploadedFile("invoice.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    response = Client().post(URL, form(attachments=[executable]))
    assert response.status_code == 422
    assert "is an executable file" in response.content.decode()
    assert Customer.objects.count() == 0
    assert CustomerEmail.objects.count() == 0
    assert Ticket.objects.count() == 0


def test_needs_the_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True)
    assert client.post(URL, form()).status_code == 403
    assert Ticket.objects.count() == 0


def test_what_visitors_typed_is_escaped() -> None:
    response = Client().post(URL, form(name='"><script>alert(1)</script>', email="bad"))
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_query_count_of_the_form(django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        assert Client().get(URL).status_code == 200


def test_signed_in_customer_can_still_use_it(people: People) -> None:
    client = client_for(people.customer)
    assert client.post(URL, form(email=people.customer.email)).status_code == 302
    assert Ticket.objects.get().requester == people.customer.customer
