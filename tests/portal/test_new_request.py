"""New request (/portal/new): who may open it, a request with files, errors next to the field
with the typed text kept, and what a customer may not set."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from deskpilot.tickets.models import Channel, Message, Priority, Status, Ticket, Via
from tests.portal.conftest import People, client_for

URL = reverse("portal:new")
pytestmark = pytest.mark.django_db


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/plain")


def test_anonymous_visitor_is_sent_to_sign_in() -> None:
    response = client_for(None).get(URL)
    assert response.status_code == 302
    assert response["Location"] == f"/signin?next={URL}"
    assert client_for(None).post(URL, {"subject": "x", "description": "y"}).status_code == 302
    assert Ticket.objects.count() == 0


@pytest.mark.parametrize("role", ["agent", "manager", "admin", "collaborator"])
def test_staff_get_404(people: People, role: str) -> None:
    client = client_for(getattr(people, role))
    assert client.get(URL).status_code == 404
    assert client.post(URL, {"subject": "x", "description": "y"}).status_code == 404
    assert Ticket.objects.count() == 0


def test_form_has_labels_and_the_portal_nav(people: People) -> None:
    response = client_for(people.customer).get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    for name in ("subject", "description", "attachments"):
        assert f'<label for="id_{name}">' in html
    assert 'enctype="multipart/form-data"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert '<a href="/portal/new" aria-current="page">New request</a>' in html


def test_submits_a_request_with_several_files(people: People) -> None:
    response = client_for(people.customer).post(
        URL,
        {
            "subject": "  Label printer   jams ",
            "description": "Every second label jams.",
            "attachments": [upload("log.txt", b"jam at 10:02"), upload("notes.txt", b"more")],
            # Not a field of this form: a customer cannot choose these.
            "priority": "urgent",
            "status": "solved",
        },
        follow=True,
    )
    ticket = Ticket.objects.get()
    assert response.redirect_chain == [(reverse("portal:ticket", args=[ticket.pk]), 302)]
    assert f"Request #{ticket.pk} received." in response.content.decode()
    assert (ticket.subject, ticket.channel, ticket.status, ticket.priority) == (
        "Label printer jams",
        Channel.PORTAL,
        Status.NEW,
        Priority.NORMAL,
    )
    assert ticket.requester == people.customer.customer
    assert ticket.organization == people.organization
    message = Message.objects.get()
    assert (message.via, message.public, message.body_text) == (Via.WEB, True, "Every second label jams.")
    assert sorted(a.filename for a in message.attachments.all()) == ["log.txt", "notes.txt"]


def test_missing_fields_are_named_and_typed_text_kept(people: People) -> None:
    response = client_for(people.customer).post(URL, {"subject": "", "description": "All my careful words"})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_subject_error"' in html
    assert 'id="id_description_error"' not in html
    assert "All my careful words</textarea>" in html
    assert Ticket.objects.count() == 0


def test_an_action_refusal_lands_next_to_its_field(people: People) -> None:
    response = client_for(people.customer).post(
        URL, {"subject": "Help", "description": "See file", "attachments": [upload("setup.exe", b"MZ\x90\x00")]}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_attachments_error"' in html
    assert "is an executable file" in html
    assert 'value="Help"' in html
    assert Ticket.objects.count() == 0


def test_whitespace_only_description_is_refused(people: People) -> None:
    response = client_for(people.customer).post(URL, {"subject": "Help", "description": "   "})
    assert response.status_code == 422
    assert 'id="id_description_error"' in response.content.decode()
    assert Ticket.objects.count() == 0


def test_overlong_subject_is_refused(people: People) -> None:
    response = client_for(people.customer).post(URL, {"subject": "x" * 301, "description": "y"})
    assert response.status_code == 422
    assert 'id="id_subject_error"' in response.content.decode()


def test_needs_the_csrf_token(people: People) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.customer)
    assert client.post(URL, {"subject": "x", "description": "y"}).status_code == 403
    assert Ticket.objects.count() == 0


def test_query_count_of_the_form(people: People, django_assert_num_queries: Any) -> None:
    client = client_for(people.customer)
    # session, user, customer
    with django_assert_num_queries(3):
        assert client.get(URL).status_code == 200
