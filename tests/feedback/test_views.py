"""The customer's survey pages (deskpilot.feedback.views), reached from the e-mail without
signing in: tampered, expired and replayed links, answering twice, the comment and reason, and
unsubscribing."""

from __future__ import annotations

import datetime
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from deskpilot.feedback import actions, links
from deskpilot.feedback.models import Invitation, SurveyKind, SurveyReason, SurveyResponse, Unsubscribe
from deskpilot.mail.models import OutboundKind, OutboundMail
from tests.feedback.conftest import solved_ticket, survey

pytestmark = pytest.mark.django_db


def sent(name: str = "Ada") -> Invitation:
    survey(delay_minutes=0)
    ticket = solved_ticket()
    ticket.requester.name = name
    ticket.requester.save()
    actions.schedule_after_solve(ticket.pk)
    actions.send_due(timezone.now() + datetime.timedelta(minutes=1))
    return Invitation.objects.get()


def path(url: str) -> str:
    return urlsplit(url).path


def test_the_one_click_link_records_only_when_the_page_submits_itself() -> None:
    invitation = sent()
    client = Client(enforce_csrf_checks=True)
    url = path(links.answer_url(invitation.pk, 4))
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "data-autosubmit" in body
    assert "feedback/answer.js" in body
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    # A scanner that only fetches the link answers nothing.
    assert not SurveyResponse.objects.exists()
    token = client.cookies["csrftoken"].value
    response = client.post(url, {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert response["Location"] == path(links.survey_url(invitation.pk))
    assert SurveyResponse.objects.get().score == 4
    # The survey page shows the answer and asks for a comment.
    body = client.get(response["Location"]).content.decode()
    assert 'data-answer="4"' in body
    assert "4 of 5" in body
    assert 'name="comment"' in body


def test_answering_again_replaces_and_a_replay_changes_nothing() -> None:
    invitation = sent()
    client = Client()
    client.post(path(links.answer_url(invitation.pk, 2)))
    client.post(path(links.answer_url(invitation.pk, 5)))
    client.post(path(links.answer_url(invitation.pk, 5)))
    response = SurveyResponse.objects.get()
    assert (response.score, response.changes) == (5, 1)


def test_a_tampered_link_gets_a_friendly_not_found_page() -> None:
    invitation = sent()
    good = links.token(invitation.pk)
    _number, _, signature = good.partition(":")
    other = links.token(invitation.pk + 1)
    forged = [
        f"{other.partition(':')[0]}:{signature}",  # another invitation's number, this signature
        good[:-3],  # cut short
        "MQ:nonsense",
        "plain",
    ]
    client = Client()
    for token in forged:
        for url in (f"/feedback/{token}/", f"/feedback/{token}/answer/5", f"/feedback/{token}/unsubscribe"):
            page = client.get(url)
            assert page.status_code == 404, url
            assert "We could not find this survey" in page.content.decode()
            assert client.post(url).status_code == 404
    assert not SurveyResponse.objects.exists()
    assert not Unsubscribe.objects.exists()


def test_an_expired_link_gets_a_friendly_closed_page_and_records_nothing() -> None:
    invitation = sent()
    assert invitation.expires_at is not None
    client = Client()
    with time_machine.travel(invitation.expires_at + datetime.timedelta(seconds=1)):
        for url in (links.survey_url(invitation.pk), links.answer_url(invitation.pk, 5)):
            page = client.get(path(url))
            assert page.status_code == 410
            assert "This survey is closed now" in page.content.decode()
        assert client.post(path(links.answer_url(invitation.pk, 5))).status_code == 410
        # Unsubscribing still works from an old link.
        assert client.post(path(links.unsubscribe_url(invitation.pk))).status_code == 200
    assert not SurveyResponse.objects.exists()
    assert Unsubscribe.objects.filter(customer=invitation.customer).exists()


def test_a_score_off_the_scale_is_named() -> None:
    invitation = sent()
    page = Client().post(path(links.answer_url(invitation.pk, 9)))
    assert page.status_code == 422
    assert 'data-error="score"' in page.content.decode()
    assert not SurveyResponse.objects.exists()


def test_the_comment_and_the_reason_of_a_negative_answer() -> None:
    invitation = sent()
    reason = SurveyReason.objects.create(kind=SurveyKind.CSAT, label="Too slow")
    client = Client()
    client.post(path(links.answer_url(invitation.pk, 4)))
    body = client.get(path(links.survey_url(invitation.pk))).content.decode()
    assert "Too slow" not in body  # no reasons for a positive answer
    client.post(path(links.answer_url(invitation.pk, 1)))
    body = client.get(path(links.survey_url(invitation.pk))).content.decode()
    assert "Too slow" in body
    response = client.post(path(links.survey_url(invitation.pk)), {"comment": "A week!", "reason": reason.pk})
    assert response.status_code == 302
    assert "Thank you, we have your comment." in client.get(response["Location"]).content.decode()
    saved = SurveyResponse.objects.get()
    assert (saved.comment, saved.reason) == ("A week!", reason)
    bad = client.post(path(links.survey_url(invitation.pk)), {"comment": "kept", "reason": "x"})
    assert bad.status_code == 422
    assert 'data-error="reason"' in bad.content.decode()
    assert "kept" in bad.content.decode()  # what they wrote is not lost
    assert SurveyResponse.objects.get().comment == "A week!"


def test_what_a_customer_wrote_never_runs_as_script() -> None:
    invitation = sent(name="<script>alert(1)</script>")
    mail = OutboundMail.objects.get(kind=OutboundKind.SURVEY)
    assert "<script>" not in mail.body_html
    assert "&lt;script&gt;" in mail.body_html
    client = Client()
    client.post(path(links.answer_url(invitation.pk, 1)))
    client.post(path(links.survey_url(invitation.pk)), {"comment": "<img src=x onerror=alert(1)>"})
    body = client.get(path(links.survey_url(invitation.pk))).content.decode()
    assert "<img src=x" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body


def test_unsubscribe_asks_then_stops_every_survey() -> None:
    invitation = sent()
    client = Client()
    page = client.get(path(links.unsubscribe_url(invitation.pk)))
    assert page.status_code == 200
    assert 'data-unsubscribe="ask"' in page.content.decode()
    assert not Unsubscribe.objects.exists()
    page = client.post(path(links.unsubscribe_url(invitation.pk)))
    assert 'data-unsubscribe="done"' in page.content.decode()
    assert Unsubscribe.objects.filter(customer=invitation.customer).exists()


def test_the_mail_providers_one_click_unsubscribe_needs_no_session() -> None:
    """RFC 8058: the provider POSTs ``List-Unsubscribe=One-Click`` to the header's URL, with no
    cookie or CSRF token; the signed token is the authority."""
    invitation = sent()
    provider = Client(enforce_csrf_checks=True)
    form = "application/x-www-form-urlencoded"
    # A forged token unsubscribes nobody.
    forged = links.token(invitation.pk)[:-2] + "xx"
    assert provider.post(f"/feedback/{forged}/unsubscribe", "List-Unsubscribe=One-Click", form).status_code == 404
    assert not Unsubscribe.objects.exists()
    page = provider.post(path(links.unsubscribe_url(invitation.pk)), "List-Unsubscribe=One-Click", form)
    assert page.status_code == 200
    assert Unsubscribe.objects.filter(customer=invitation.customer).exists()


def test_the_portal_shows_the_open_survey_and_records_the_answer_as_from_the_portal() -> None:
    from django.urls import reverse

    from deskpilot.accounts.models import Role, User
    from deskpilot.feedback.models import ResponseVia

    invitation = sent()
    assert invitation.ticket is not None
    customer = invitation.customer
    user = User.objects.create_user(email="portal-ada@example.test", name="Ada", role=Role.CUSTOMER)
    customer.user = user
    customer.save()
    client = Client()
    client.force_login(user)
    page = client.get(reverse("portal:ticket", args=[invitation.ticket.pk])).content.decode()
    assert 'data-portal-survey="csat"' in page
    assert 'name="via" value="portal"' in page
    client.post(path(links.answer_url(invitation.pk, 5)), {"via": "portal"})
    saved = SurveyResponse.objects.get()
    assert (saved.score, saved.via) == (5, ResponseVia.PORTAL)
    assert (
        "Your answer: <strong>5 of 5</strong>"
        in client.get(reverse("portal:ticket", args=[invitation.ticket.pk])).content.decode()
    )
    # Once the survey has closed, the portal no longer offers it.
    invitation.expires_at = timezone.now()
    invitation.save()
    assert (
        "data-portal-survey" not in client.get(reverse("portal:ticket", args=[invitation.ticket.pk])).content.decode()
    )
