"""Every change to surveys and their answers: scheduling a ticket's surveys when it is solved,
sending the due ones, recording an answer (again: it replaces the earlier one), a comment and a
reason, and unsubscribing.

Sending writes the e-mail as an OutboundMail (``mail.outbound``), which the job worker delivers
with retries; an invitation is sent once, whichever worker sweeps it, because it is locked and
re-read before it is sent.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from deskpilot.accounts.models import Team, User
from deskpilot.analytics import ticket_metrics
from deskpilot.core.errors import InvalidInput
from deskpilot.customers.models import Customer
from deskpilot.feedback import links, scores, surveys, voice
from deskpilot.feedback.models import (
    FREQUENCY_DAYS,
    CsatScale,
    FeedbackSettings,
    FollowUp,
    FollowUpOutcome,
    Invitation,
    InvitationStatus,
    ResponseVia,
    Survey,
    SurveyKind,
    SurveyReason,
    SurveyResponse,
    Unsubscribe,
)
from deskpilot.mail import outbound
from deskpilot.mail.models import OutboundKind
from deskpilot.mail.notifications import AUTO_GENERATED
from deskpilot.tickets.models import LinkKind, Status, Tag, Ticket, TicketLink

logger = logging.getLogger(__name__)

# The ticket surveys, asked after a solve.
AFTER_SOLVE = (SurveyKind.CSAT, SurveyKind.CES)
# Tickets tagged so are spam: never surveyed.
SPAM_TAGS = ("spam",)
# Why an invitation was not sent (shown to managers).
REOPENED = "the ticket was reopened before the survey went out"


# --- scheduling ----------------------------------------------------------------------------------


def schedule_after_solve(ticket_id: int, *, now: datetime.datetime | None = None) -> list[Invitation]:
    """The ticket was solved: its CSAT and CES invitations are due the survey's delay after the
    solve. An invitation already sent stays as it is (a ticket is surveyed once); one still
    scheduled, or held back because the ticket was reopened, is due again from this solve."""
    now = now or timezone.now()
    ticket = Ticket.objects.select_related("requester").filter(pk=ticket_id).first()
    if ticket is None or ticket.status not in (Status.SOLVED, Status.CLOSED):
        return []
    solved_at = ticket.solved_at or now
    made = []
    for kind in AFTER_SOLVE:
        survey = surveys.survey_for(kind, ticket.team_id, ticket.requester.language)
        if survey is None:
            continue
        due = solved_at + datetime.timedelta(minutes=survey.delay_minutes)
        with transaction.atomic():
            found = Invitation.objects.select_for_update().filter(kind=kind, ticket=ticket).first()
            if found is None:
                try:
                    with transaction.atomic():
                        found = Invitation.objects.create(
                            kind=kind,
                            survey=survey,
                            customer=ticket.requester,
                            ticket=ticket,
                            team_id=ticket.team_id,
                            agent_id=ticket.assignee_id,
                            channel=ticket.channel,
                            organization_id=ticket.organization_id,
                            language=ticket.requester.language,
                            scale=survey.scale,
                            due_at=due,
                            created_at=now,
                        )
                except IntegrityError:  # made meanwhile by another process: it is scheduled
                    continue
            elif found.status == InvitationStatus.SCHEDULED or (
                found.status == InvitationStatus.SKIPPED and found.skip_reason == REOPENED
            ):
                found.status, found.skip_reason, found.due_at, found.survey = (
                    InvitationStatus.SCHEDULED,
                    "",
                    due,
                    survey,
                )
                found.team_id, found.agent_id = ticket.team_id, ticket.assignee_id
                found.save(update_fields=["status", "skip_reason", "due_at", "survey", "team", "agent"])
            else:
                continue
        made.append(found)
    return made


# How far back the sweep looks for solves whose scheduling was lost, and how long it leaves the
# job a solve queued to do it first.
MISSED_WINDOW = datetime.timedelta(days=3)
MISSED_GRACE = datetime.timedelta(minutes=10)


def _surveyed_tickets(kind: str) -> Q | None:
    """The tickets some active survey of this kind applies to (``surveys.survey_for``'s
    candidates, as a condition on tickets); None when there is no such survey."""
    condition: Q | None = None
    for team_id, language in Survey.objects.filter(kind=kind, active=True).values_list("team_id", "language"):
        match = Q()
        if team_id is not None:
            match &= Q(team_id=team_id)
        if language:
            match &= Q(requester__language=language)
        condition = match if condition is None else condition | match
    return condition


def schedule_missed(*, now: datetime.datetime | None = None, limit: int = 500) -> int:
    """Solves whose surveys were never scheduled, because the job the solve queued was lost (the
    queue down at that moment): tickets solved in the last ``MISSED_WINDOW`` (but at least
    ``MISSED_GRACE`` ago, the queued job's turn), after the first active survey of the kind was
    made, that a survey applies to and that have no invitation of that kind. Returns how many
    invitations it scheduled. A periodic job runs it."""
    now = now or timezone.now()
    ticket_ids: set[int] = set()
    for kind in AFTER_SOLVE:
        applies = _surveyed_tickets(kind)
        if applies is None:
            continue
        first = (
            Survey.objects.filter(kind=kind, active=True).order_by("created_at").values_list("created_at", flat=True)
        )
        since = max(now - MISSED_WINDOW, first[0])
        missing = (
            Ticket.objects.filter(applies, status__in=[Status.SOLVED, Status.CLOSED])
            .filter(solved_at__gte=since, solved_at__lt=now - MISSED_GRACE)
            .exclude(Exists(Invitation.objects.filter(kind=kind, ticket_id=OuterRef("pk"))))
            .order_by("solved_at")
            .values_list("pk", flat=True)[:limit]
        )
        ticket_ids.update(missing)
    scheduled = 0
    for ticket_id in sorted(ticket_ids):
        scheduled += len(schedule_after_solve(ticket_id, now=now))
    if scheduled:
        logger.info("scheduled %s survey invitation(s) of solves whose scheduling was lost", scheduled)
    return scheduled


# --- relationship surveys (NPS) ------------------------------------------------------------------


def segment(survey: Survey, now: datetime.datetime) -> QuerySet[Customer]:
    """The customers an NPS survey is asked of: its segment's conditions (all that are set), with
    an e-mail address, not unsubscribed."""
    customers = Customer.objects.filter(emails__isnull=False).exclude(survey_unsubscribe__isnull=False)
    if survey.segment_organization_id is not None:
        customers = customers.filter(organization_id=survey.segment_organization_id)
    if survey.segment_tier:
        customers = customers.filter(Q(tier=survey.segment_tier) | Q(tier="", organization__tier=survey.segment_tier))
    if survey.segment_tag:
        customers = customers.filter(tickets__tags__name=survey.segment_tag)
    if survey.segment_active_days:
        since = now - datetime.timedelta(days=survey.segment_active_days)
        customers = customers.filter(tickets__created_at__gte=since)
    return customers.distinct()


def plan_relationship_surveys(now: datetime.datetime | None = None) -> int:
    """For every NPS survey whose time has come: an invitation, due now, to each customer of its
    segment (throttling and bounces are checked when each is sent), and the next run set. How
    many invitations were made."""
    now = now or timezone.now()
    made = 0
    due = Survey.objects.filter(kind=SurveyKind.NPS, active=True).exclude(frequency="")
    for survey_id in due.filter(Q(next_run_at__isnull=True) | Q(next_run_at__lte=now)).values_list("pk", flat=True):
        with transaction.atomic():
            rows = Survey.objects.filter(pk=survey_id, active=True)
            if connection.features.has_select_for_update:
                rows = rows.select_for_update()
            survey = rows.first()
            if survey is None or (survey.next_run_at is not None and survey.next_run_at > now):
                continue  # another worker ran it meanwhile
            invitations = [
                Invitation(
                    kind=SurveyKind.NPS,
                    survey=survey,
                    customer_id=pk,
                    organization_id=organization,
                    language=language,
                    due_at=now,
                    created_at=now,
                )
                for pk, organization, language in segment(survey, now).values_list("pk", "organization_id", "language")
            ]
            Invitation.objects.bulk_create(invitations, batch_size=1_000)
            survey.next_run_at = now + datetime.timedelta(days=FREQUENCY_DAYS[survey.frequency])
            survey.save(update_fields=["next_run_at"])
        made += len(invitations)
        logger.info("NPS survey %s: %d invitations planned", survey_id, len(invitations))
    return made


# --- sending -------------------------------------------------------------------------------------


def due_ids(now: datetime.datetime, limit: int = 500) -> list[int]:
    return list(
        Invitation.objects.filter(status=InvitationStatus.SCHEDULED, due_at__lte=now)
        .order_by("due_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def _skip(invitation: Invitation, reason: str) -> Invitation:
    invitation.status, invitation.skip_reason = InvitationStatus.SKIPPED, reason
    invitation.save(update_fields=["status", "skip_reason"])
    logger.info("survey invitation %s not sent: %s", invitation.pk, reason)
    return invitation


def _why_not(invitation: Invitation, now: datetime.datetime, settings: FeedbackSettings) -> str:
    """Why the invitation must not go out now ("" when it may)."""
    if invitation.survey is None or not invitation.survey.active:
        return "the survey was turned off"
    ticket = invitation.ticket
    if ticket is not None:
        if ticket.status not in (Status.SOLVED, Status.CLOSED):
            return REOPENED
        if TicketLink.objects.filter(source=ticket, kind=LinkKind.MERGED_INTO).exists():
            return "the ticket was merged into another"
        if Tag.objects.filter(tickets=ticket, name__in=SPAM_TAGS).exists():
            return "the ticket is spam"
    if Unsubscribe.objects.filter(customer_id=invitation.customer_id).exists():
        return "the customer asked for no surveys"
    days = settings.throttle_days
    recent = (
        Invitation.objects.filter(
            customer_id=invitation.customer_id,
            status=InvitationStatus.SENT,
            sent_at__gt=now - datetime.timedelta(days=days),
        )
        .exclude(pk=invitation.pk)
        .order_by("-sent_at")
        .first()
    )
    if recent is not None and recent.sent_at is not None:
        return f"the customer was surveyed on {recent.sent_at:%Y-%m-%d} (at most one survey every {days} days)"
    return ""


def send(invitation_id: int, *, now: datetime.datetime | None = None) -> Invitation | None:
    """Send one scheduled invitation whose time has come, or record why it is not sent. Safe to
    run twice and from two workers at once: the row is locked and re-read. None when it is not
    (or no longer) scheduled and due."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = Invitation.objects.filter(pk=invitation_id, status=InvitationStatus.SCHEDULED, due_at__lte=now)
        if connection.features.has_select_for_update:
            rows = rows.select_for_update(of=("self",))
        invitation = rows.select_related("survey", "customer", "ticket").first()
        if invitation is None:
            return None
        settings = FeedbackSettings.current()
        reason = _why_not(invitation, now, settings)
        if reason:
            return _skip(invitation, reason)
        assert invitation.survey is not None
        recipients = outbound.customer_recipients(invitation.ticket, [invitation.customer], cc_from=1)
        if not recipients.to:
            why = "; ".join(f"{s['address']}: {s['reason']}" for s in recipients.skipped) or "no e-mail address"
            return _skip(invitation, why)
        invitation.expires_at = now + datetime.timedelta(days=settings.link_days)
        subject, text, html = surveys.email_for(invitation, invitation.survey)
        # A relationship survey (NPS) is about no ticket: it goes out without a thread.
        mail = outbound.create_outbound(
            ticket=invitation.ticket,
            kind=OutboundKind.SURVEY,
            sender=outbound.sender_for(invitation.ticket),
            recipients=outbound.Recipients(to=recipients.to[:1]),
            subject=subject,
            body_text=text,
            body_html=html,
            auto_submitted=AUTO_GENERATED,
            list_unsubscribe=links.unsubscribe_url(invitation.pk),
        )
        invitation.status, invitation.sent_at, invitation.address, invitation.outbound = (
            InvitationStatus.SENT,
            now,
            recipients.to[0],
            mail,
        )
        invitation.save(update_fields=["status", "sent_at", "expires_at", "address", "outbound"])
    return invitation


def send_due(now: datetime.datetime | None = None) -> int:
    """Plan the relationship surveys that are due, then send (or skip, with the reason) every
    invitation whose time has come; how many were sent."""
    now = now or timezone.now()
    try:
        plan_relationship_surveys(now)
    except Exception:
        logger.exception("the relationship surveys could not be planned")
    sent = 0
    for invitation_id in due_ids(now):
        try:
            done = send(invitation_id, now=now)
        except Exception:
            # One broken invitation (a template error, say) must not hold up the others; it
            # stays scheduled and is tried again at the next sweep.
            logger.exception("survey invitation %s could not be sent", invitation_id)
            continue
        sent += done is not None and done.status == InvitationStatus.SENT
    return sent


# --- answers -------------------------------------------------------------------------------------


class LinkExpired(Exception):
    """The invitation's links have expired."""


@dataclass(frozen=True)
class Answer:
    response: SurveyResponse
    changed: bool  # an earlier answer was replaced


def _check_open(invitation: Invitation, now: datetime.datetime) -> None:
    if invitation.expires_at is not None and now >= invitation.expires_at:
        raise LinkExpired(invitation.pk)


def record_answer(
    invitation: Invitation, score: int, *, via: str = ResponseVia.EMAIL, now: datetime.datetime | None = None
) -> Answer:
    """Record (or replace) the answer. Raises InvalidInput("score") for a value the survey does
    not take, LinkExpired after the invitation's links expired. A CSAT answer goes onto the
    ticket's metrics record (and so into every report) at once."""
    now = now or timezone.now()
    if score not in invitation.values:
        raise InvalidInput(
            "score", f"{score} is not an answer to this survey ({', '.join(map(str, invitation.values))})"
        )
    _check_open(invitation, now)
    with transaction.atomic():
        response, created = SurveyResponse.objects.select_for_update().get_or_create(
            invitation=invitation,
            defaults={"score": score, "via": via, "answered_at": now, "first_answered_at": now},
        )
        changed = not created and response.score != score
        if changed:
            response.score, response.via, response.answered_at = score, via, now
            response.changes += 1
            response.save(update_fields=["score", "via", "answered_at", "changes"])
        if invitation.kind == SurveyKind.CSAT and invitation.ticket_id is not None:
            ticket_metrics.set_csat(invitation.ticket_id, scores.csat_good(invitation.scale, score))
        survey = invitation.survey
        if (
            survey is not None
            and survey.follow_up_negative
            and scores.is_negative(invitation.kind, invitation.scale, score)
        ):
            _open_follow_up(response, invitation, now)
    return Answer(response=response, changed=changed)


def _open_follow_up(response: SurveyResponse, invitation: Invitation, now: datetime.datetime) -> None:
    """One follow-up per answer, for the lead of the team the ticket was with; an answer changed
    to negative again later does not open a second."""
    lead_id = (
        Team.objects.filter(pk=invitation.team_id).values_list("lead_id", flat=True).first()
        if invitation.team_id is not None
        else None
    )
    FollowUp.objects.get_or_create(
        response=response, defaults={"team_id": invitation.team_id, "owner_id": lead_id, "created_at": now}
    )


def close_follow_up(
    follow_up: FollowUp, *, outcome: str, notes: str, actor: User, now: datetime.datetime | None = None
) -> FollowUp:
    """Record how the call-back went. Raises InvalidInput naming the field."""
    errors = {}
    if outcome not in FollowUpOutcome.values:
        errors["outcome"] = "choose how it went" if not outcome else f"{outcome!r} is not an outcome"
    notes = notes.strip()
    if len(notes) > 5000:
        errors["notes"] = "is longer than 5,000 characters"
    if errors:
        raise InvalidInput(errors)
    follow_up.outcome, follow_up.notes = outcome, notes
    follow_up.closed_at, follow_up.closed_by = now or timezone.now(), actor
    follow_up.save(update_fields=["outcome", "notes", "closed_at", "closed_by"])
    return follow_up


def reopen_follow_up(follow_up: FollowUp) -> FollowUp:
    follow_up.closed_at = follow_up.closed_by = None
    follow_up.outcome = ""
    follow_up.save(update_fields=["outcome", "closed_at", "closed_by"])
    return follow_up


def add_comment(
    invitation: Invitation,
    *,
    comment: str,
    reason_id: int | None,
    now: datetime.datetime | None = None,
) -> SurveyResponse:
    """The follow-up page: a comment, and for a negative answer a reason from the manager's list.
    Raises InvalidInput naming the field; LinkExpired after expiry."""
    now = now or timezone.now()
    _check_open(invitation, now)
    response = SurveyResponse.objects.filter(invitation=invitation).first()
    if response is None:
        raise InvalidInput("score", "choose an answer first")
    comment = comment.strip()
    if len(comment) > 5000:
        raise InvalidInput("comment", "is longer than 5,000 characters")
    reason = None
    if reason_id is not None:
        if not scores.is_negative(invitation.kind, invitation.scale, response.score):
            raise InvalidInput("reason", "is only asked for a negative answer")
        reason = SurveyReason.objects.filter(pk=reason_id, kind=invitation.kind, active=True).first()
        if reason is None:
            raise InvalidInput("reason", "is not one of the reasons offered")
    changed = comment != response.comment
    response.comment, response.reason = comment, reason
    response.save(update_fields=["comment", "reason"])
    if changed:
        voice.forget_comment(response.pk)  # analysed again, as written now
    return response


def unsubscribe(customer: Customer, *, via: str = ResponseVia.EMAIL, now: datetime.datetime | None = None) -> bool:
    """No more surveys for this customer: every scheduled invitation is dropped. False when they
    had already unsubscribed."""
    now = now or timezone.now()
    with transaction.atomic():
        _, created = Unsubscribe.objects.get_or_create(customer=customer, defaults={"at": now, "via": via})
        Invitation.objects.filter(customer=customer, status=InvitationStatus.SCHEDULED).update(
            status=InvitationStatus.SKIPPED, skip_reason="the customer asked for no surveys"
        )
    return created


def reasons_for(kind: str) -> list[SurveyReason]:
    return list(SurveyReason.objects.filter(Q(kind=kind) & Q(active=True)))


# --- the manager's settings ----------------------------------------------------------------------

# The texts rendered as templates: each is tried on a sample ticket before it is saved.
TEMPLATE_FIELDS = ("subject", "intro", "question")


def _check_templates(values: dict[str, object]) -> None:
    from django.template import Context, Template

    sample = {
        "customer": Customer(name="Ada Lovelace"),
        "ticket": Ticket(pk=1234, subject="Printer on fire"),
    }
    errors = {}
    for name in TEMPLATE_FIELDS:
        try:
            Template(str(values.get(name) or "")).render(Context(sample))
        except Exception as error:  # any failure (syntax, a missing filter) is the manager's text
            errors[name] = f"cannot be used: {error}"
    if errors:
        raise InvalidInput(errors)


def save_survey(survey: Survey | None, values: dict[str, object], *, now: datetime.datetime | None = None) -> Survey:
    """Create or update a survey (``values``: the model's fields, shaped by the form). Raises
    InvalidInput naming the field: a text that is not a valid template, another active survey of
    the same kind for the same team and language."""
    now = now or timezone.now()
    _check_templates(values)
    survey = survey or Survey(created_at=now)
    for name, value in values.items():
        setattr(survey, name, value)
    if survey.kind != SurveyKind.CSAT:
        survey.scale = CsatScale.FIVE  # only CSAT has a choice of scale; stored as the default
    if survey.active:
        same_team = Q(team__isnull=True) if survey.team_id is None else Q(team_id=survey.team_id)
        clash = Survey.objects.filter(same_team, kind=survey.kind, active=True, language=survey.language).exclude(
            pk=survey.pk
        )
        if clash.exists():
            raise InvalidInput(
                "active",
                f"another {survey.get_kind_display()} survey is active for this team and language "
                f"(“{clash.first()}”): turn it off first",
            )
    survey.updated_at = now
    try:
        with transaction.atomic():
            survey.save()
    except IntegrityError as error:  # made meanwhile
        raise InvalidInput("active", "another survey of this kind is active for this team and language") from error
    return survey


def delete_survey(survey: Survey) -> None:
    """Delete a survey. Invitations keep their answers (their survey becomes none); those still
    scheduled are not sent."""
    with transaction.atomic():
        Invitation.objects.filter(survey=survey, status=InvitationStatus.SCHEDULED).update(
            status=InvitationStatus.SKIPPED, skip_reason="the survey was deleted"
        )
        survey.delete()


def save_settings(*, throttle_days: int, link_days: int, now: datetime.datetime | None = None) -> FeedbackSettings:
    errors = {}
    if not 0 <= throttle_days <= 365:
        errors["throttle_days"] = "must be between 0 and 365 days"
    if not 1 <= link_days <= 365:
        errors["link_days"] = "must be between 1 and 365 days"
    if errors:
        raise InvalidInput(errors)
    settings = FeedbackSettings.current()
    settings.throttle_days, settings.link_days, settings.updated_at = throttle_days, link_days, now or timezone.now()
    settings.save()
    return settings


def set_reasons(kind: str, labels: list[str]) -> list[SurveyReason]:
    """The reasons offered for a negative answer of ``kind``, in this order. A reason no longer
    listed is retired (answers that gave it keep it); one listed again comes back."""
    cleaned: list[str] = []
    for label in labels:
        label = " ".join(label.split())
        if len(label) > 200:
            raise InvalidInput("reasons", f"“{label[:40]}…” is longer than 200 characters")
        if label and label.lower() not in {c.lower() for c in cleaned}:
            cleaned.append(label)
    if len(cleaned) > 30:
        raise InvalidInput("reasons", "offer at most 30 reasons")
    with transaction.atomic():
        existing = {r.label.lower(): r for r in SurveyReason.objects.select_for_update().filter(kind=kind)}
        kept = []
        for position, label in enumerate(cleaned):
            reason = existing.pop(label.lower(), None) or SurveyReason(kind=kind)
            reason.label, reason.position, reason.active = label, position, True
            reason.save()
            kept.append(reason)
        SurveyReason.objects.filter(pk__in=[r.pk for r in existing.values()]).update(active=False)
    return kept
