"""The demo desk's customer feedback, so the survey pages, the feedback scores and the CSAT on the
performance page and scorecards have something to show on a fresh install.

Two surveys, as a manager would set them up: a five-point CSAT survey a day after each solve and a
quarterly NPS survey. For the tickets solved in the last ``WINDOW_DAYS`` days, each customer is
surveyed at most once every 30 days (the desk's throttle); about a third answer, a day or two
later, and some write a comment. Answers follow the ticket: a reopened ticket or a long
resolution draws lower scores. One NPS round went to a sample of the customers a month ago.

Written in bulk (the invitations were "sent" in the past: no mail goes out), then the CSAT
answers are put on the tickets' metrics records and the daily rollups are summed again, as the
live path would have kept them. Reproducible from the seed; a second run adds invitations only
for the tickets that have none.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef

from deskpilot.analytics import rollups
from deskpilot.analytics.models import TicketMetrics
from deskpilot.feedback import scores
from deskpilot.feedback.models import (
    CsatScale,
    Invitation,
    InvitationStatus,
    NpsFrequency,
    ResponseVia,
    Survey,
    SurveyKind,
    SurveyResponse,
)
from deskpilot.feedback.surveys import DEFAULT_TEXTS
from deskpilot.tickets.models import Status, Ticket

WINDOW_DAYS = 90
THROTTLE = datetime.timedelta(days=30)
LINK_LIFETIME = datetime.timedelta(days=30)
CSAT_RESPONSE_RATE = 0.32
NPS_SAMPLE = 0.2
NPS_RESPONSE_RATE = 0.4
COMMENT_RATE = 0.4
BATCH = 2000

# Scores 1-5: a ticket that went well, and one that was reopened or took more than three days.
_SMOOTH = ((5, 0.56), (4, 0.26), (3, 0.09), (2, 0.05), (1, 0.04))
_ROUGH = ((5, 0.2), (4, 0.22), (3, 0.22), (2, 0.18), (1, 0.18))
_SLOW = 3 * 24 * 3600
_NPS = tuple((score, weight) for score, weight in zip(range(11), (2, 1, 2, 2, 3, 4, 5, 9, 14, 24, 34), strict=True))

COMMENTS = {
    "good": (
        "Quick and friendly help, thank you!",
        "Solved on the first reply. Great service.",
        "Clear instructions, everything works again.",
        "Thanks for following up so fast.",
        "Very patient with my questions, much appreciated.",
        "The agent knew exactly what to do.",
    ),
    "middle": (
        "Fixed in the end, but it took a few rounds.",
        "OK, though I had to wait a while for the first answer.",
        "The answer helped, the link in it did not work.",
    ),
    "bad": (
        "It took far too long to get an answer.",
        "I had to explain the problem twice.",
        "The fix did not work and I had to write again.",
        "Nobody told me the ticket was closed.",
        "I was passed between three people.",
        "Still waiting for the refund you promised.",
    ),
}
NPS_COMMENTS = {
    "promoter": ("Reliable product and a support team that answers.", "Easy to use, and help is quick."),
    "passive": ("Does the job. The billing pages are confusing.", "Fine overall, a bit pricey."),
    "detractor": ("Too many outages this quarter.", "Support takes days to answer."),
}


@dataclass
class FeedbackResult:
    invitations: int = 0
    answers: int = 0


def _pick(rng: random.Random, weighted: Iterable[tuple[int, float]]) -> int:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def ensure_surveys(now: datetime.datetime) -> tuple[Survey, Survey]:
    """The demo's CSAT and NPS surveys (the desk's own, when it has them)."""
    csat = Survey.objects.filter(kind=SurveyKind.CSAT, active=True, team=None, language="").first()
    if csat is None:
        csat = Survey.objects.create(
            kind=SurveyKind.CSAT,
            scale=CsatScale.FIVE,
            delay_minutes=24 * 60,
            follow_up_negative=True,
            created_at=now - datetime.timedelta(days=400),
            **DEFAULT_TEXTS[SurveyKind.CSAT],
        )
    nps = Survey.objects.filter(kind=SurveyKind.NPS, active=True).first()
    if nps is None:
        nps = Survey.objects.create(
            kind=SurveyKind.NPS,
            frequency=NpsFrequency.QUARTERLY,
            next_run_at=now + datetime.timedelta(days=60),
            created_at=now - datetime.timedelta(days=400),
            **DEFAULT_TEXTS[SurveyKind.NPS],
        )
    return csat, nps


def generate(*, seed: int, now: datetime.datetime) -> FeedbackResult:
    rng = random.Random(f"{seed}-feedback")  # noqa: S311 - demo data, reproducible by design
    csat, nps = ensure_surveys(now)
    result = FeedbackResult()
    with transaction.atomic():
        answered_tickets = _csat(rng, csat, now, result)
        if not Invitation.objects.filter(kind=SurveyKind.NPS).exists():
            _nps(rng, nps, now, result)
        if answered_tickets:
            # The answers on the records, and the rollups summed again from them.
            for good in (True, False):
                ids = [pk for pk, is_good in answered_tickets if is_good is good]
                for first in range(0, len(ids), BATCH):
                    TicketMetrics.objects.filter(pk__in=ids[first : first + BATCH]).update(csat_good=good)
            rollups.rebuild()
    return result


def _csat(rng: random.Random, survey: Survey, now: datetime.datetime, result: FeedbackResult) -> list[tuple[int, bool]]:
    """The CSAT invitations and answers; returns (ticket id, good) of the answers."""
    since = now - datetime.timedelta(days=WINDOW_DAYS)
    sent_before = now - datetime.timedelta(minutes=survey.delay_minutes)
    tickets = (
        Ticket.objects.filter(
            status__in=[Status.SOLVED, Status.CLOSED], solved_at__gte=since, solved_at__lt=sent_before
        )
        .exclude(Exists(Invitation.objects.filter(kind=SurveyKind.CSAT, ticket_id=OuterRef("pk"))))
        .order_by("solved_at", "pk")
        .values_list("pk", "requester_id", "team_id", "assignee_id", "channel", "organization_id", "solved_at")
    )
    rough = {
        pk
        for pk, reopens, resolution in TicketMetrics.objects.filter(solved_at__gte=since).values_list(
            "pk", "reopens", "full_resolution_time"
        )
        if reopens or (resolution or 0) > _SLOW
    }
    last_sent: dict[int, datetime.datetime] = {
        customer: at
        for customer, at in Invitation.objects.filter(sent_at__gte=since - THROTTLE)
        .order_by("sent_at")
        .values_list("customer_id", "sent_at")
        if at is not None
    }
    delay = datetime.timedelta(minutes=survey.delay_minutes)
    invitations: list[Invitation] = []
    answers: list[tuple[int, int, datetime.datetime, str]] = []  # index into invitations
    for pk, customer, team, agent, channel, organization, solved_at in tickets.iterator(chunk_size=BATCH):
        assert solved_at is not None  # filtered on it
        sent_at: datetime.datetime = solved_at + delay
        previous = last_sent.get(customer)
        if previous is not None and sent_at - previous < THROTTLE:
            continue
        last_sent[customer] = sent_at
        invitations.append(
            _sent(
                survey,
                customer,
                sent_at,
                created_at=solved_at,
                ticket_id=pk,
                team_id=team,
                agent_id=agent,
                channel=channel,
                organization_id=organization,
            )
        )
        if rng.random() < CSAT_RESPONSE_RATE:
            answered_at = sent_at + datetime.timedelta(minutes=rng.randint(5, 2 * 24 * 60))
            if answered_at < now:
                score = _pick(rng, _ROUGH if pk in rough else _SMOOTH)
                band = "good" if score >= 4 else "middle" if score == 3 else "bad"
                comment = rng.choice(COMMENTS[band]) if rng.random() < COMMENT_RATE else ""
                answers.append((len(invitations) - 1, score, answered_at, comment))
    answered = _write(invitations, answers, result)
    return [
        (invitation.ticket_id, scores.csat_good(survey.scale, score))
        for invitation, score in answered
        if invitation.ticket_id is not None
    ]


def _nps(rng: random.Random, survey: Survey, now: datetime.datetime, result: FeedbackResult) -> None:
    """One quarterly round, a month ago, to a sample of the customers with a ticket lately."""
    sent_at = now - datetime.timedelta(days=30)
    customers = sorted(
        set(
            Ticket.objects.filter(created_at__gte=sent_at - datetime.timedelta(days=WINDOW_DAYS)).values_list(
                "requester_id", "requester__organization_id"
            )
        )
    )
    invitations: list[Invitation] = []
    answers: list[tuple[int, int, datetime.datetime, str]] = []
    for customer, organization in customers:
        if rng.random() >= NPS_SAMPLE:
            continue
        invitations.append(_sent(survey, customer, sent_at, created_at=sent_at, organization_id=organization))
        if rng.random() < NPS_RESPONSE_RATE:
            score = _pick(rng, _NPS)
            comment = rng.choice(NPS_COMMENTS[scores.nps_group(score)]) if rng.random() < COMMENT_RATE else ""
            answers.append(
                (len(invitations) - 1, score, sent_at + datetime.timedelta(hours=rng.randint(1, 96)), comment)
            )
    _write(invitations, answers, result)


def _sent(
    survey: Survey, customer: int, sent_at: datetime.datetime, *, created_at: datetime.datetime, **fields: Any
) -> Invitation:
    """An invitation of the survey, sent (mailed, in the story) at ``sent_at``."""
    return Invitation(
        kind=survey.kind,
        survey=survey,
        customer_id=customer,
        scale=survey.scale,
        status=InvitationStatus.SENT,
        due_at=sent_at,
        sent_at=sent_at,
        expires_at=sent_at + LINK_LIFETIME,
        created_at=created_at,
        **fields,
    )


def _write(
    invitations: list[Invitation], answers: list[tuple[int, int, datetime.datetime, str]], result: FeedbackResult
) -> list[tuple[Invitation, int]]:
    """Insert the invitations (their ids come back), then the answers to them."""
    Invitation.objects.bulk_create(invitations, batch_size=BATCH)
    responses = [
        SurveyResponse(
            invitation=invitations[index],
            score=score,
            comment=comment,
            via=ResponseVia.EMAIL,
            answered_at=at,
            first_answered_at=at,
        )
        for index, score, at, comment in answers
    ]
    SurveyResponse.objects.bulk_create(responses, batch_size=BATCH)
    result.invitations += len(invitations)
    result.answers += len(responses)
    return [(invitations[index], score) for index, score, _, _ in answers]
