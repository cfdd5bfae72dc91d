"""Customer feedback: surveys (CSAT, CES, NPS), the invitations sent for them, the answers, and
who asked not to be surveyed again.

Scores follow DOMAIN.md: CSAT is good / (good + bad) with unrated excluded (on 1-5, 4-5 are good;
on 1-3, 3 is good; on good/bad, good); NPS is % promoters (9-10) - % detractors (0-6); CES is the
mean of 1-7 agreement with "it was easy to get my issue handled" (``feedback.scores``).

An invitation is one survey asked of one customer (about one ticket for CSAT and CES; none for
NPS, a relationship survey). It copies the ticket's team, agent, channel and organization when it
is made, so a score stays with the people who earned it if the ticket moves later. Its answer is a
``SurveyResponse``; answering again replaces the earlier answer.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from deskpilot.accounts.models import Team
from deskpilot.customers.models import Customer, Organization
from deskpilot.tickets.models import Ticket


class SurveyKind(models.TextChoices):
    CSAT = "csat", "CSAT (satisfaction)"
    CES = "ces", "CES (effort)"
    NPS = "nps", "NPS (recommendation)"


class CsatScale(models.TextChoices):
    GOOD_BAD = "good_bad", "Good / bad"
    THREE = "three", "1 to 3"
    FIVE = "five", "1 to 5"


# The answers each scale takes, lowest first (NPS 0-10 and CES 1-7 are fixed by DOMAIN.md).
SCALE_VALUES: dict[str, tuple[int, ...]] = {
    CsatScale.GOOD_BAD: (0, 1),
    CsatScale.THREE: (1, 2, 3),
    CsatScale.FIVE: (1, 2, 3, 4, 5),
    SurveyKind.NPS: tuple(range(11)),
    SurveyKind.CES: tuple(range(1, 8)),
}


class NpsFrequency(models.TextChoices):
    MONTHLY = "monthly", "Every month"
    QUARTERLY = "quarterly", "Every quarter"
    HALF_YEARLY = "half_year", "Every six months"


# How long each frequency waits between runs.
FREQUENCY_DAYS: dict[str, int] = {NpsFrequency.MONTHLY: 30, NpsFrequency.QUARTERLY: 91, NpsFrequency.HALF_YEARLY: 182}


class Survey(models.Model):
    """A survey's settings and texts. For CSAT and CES the survey of the ticket's team and the
    customer's language is used, falling back to the survey for every team, then to the desk's
    default language (``feedback.surveys.survey_for``)."""

    kind = models.CharField(max_length=8, choices=SurveyKind.choices)
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    # None: every team without its own survey of this kind and language.
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="surveys")
    # A language code ("en", "fr"); "" for any language without its own survey.
    language = models.CharField(max_length=16, blank=True, default="")
    scale = models.CharField(max_length=10, choices=CsatScale.choices, default=CsatScale.FIVE)
    # Minutes after the solve (CSAT, CES) that the invitation goes out.
    delay_minutes = models.PositiveIntegerField(default=24 * 60)
    subject = models.CharField(max_length=300)
    intro = models.TextField(help_text="The opening of the e-mail, before the question.")
    question = models.CharField(max_length=300)
    comment_prompt = models.CharField(max_length=300, default="Anything you would like to add?")
    thanks = models.CharField(max_length=300, default="Thank you for your answer.")
    # Open a follow-up for the team lead when an answer is negative (CSAT bad, NPS detractor,
    # CES 1-3).
    follow_up_negative = models.BooleanField(default=False)
    # NPS, a relationship survey: sent every ``frequency`` to the customers of a segment (every
    # condition set must hold; none set: every customer with an address).
    frequency = models.CharField(max_length=10, choices=NpsFrequency.choices, blank=True, default="")
    segment_organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    segment_tier = models.CharField(max_length=20, blank=True, default="")
    segment_tag = models.CharField(max_length=80, blank=True, default="")
    # Customers who opened a request in the last N days.
    segment_active_days = models.PositiveIntegerField(null=True, blank=True)
    next_run_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "team", "language"],
                condition=models.Q(active=True, team__isnull=False),
                name="feedback_survey_one_active_per_team",
            ),
            models.UniqueConstraint(
                fields=["kind", "language"],
                condition=models.Q(active=True, team__isnull=True),
                name="feedback_survey_one_active_default",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def values(self) -> tuple[int, ...]:
        """The answers this survey takes, lowest first."""
        return SCALE_VALUES[self.scale if self.kind == SurveyKind.CSAT else self.kind]


class SurveyReason(models.Model):
    """A reason a customer may pick for a negative answer, from a list the manager edits per
    survey kind."""

    kind = models.CharField(max_length=8, choices=SurveyKind.choices)
    label = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "position", "id"]

    def __str__(self) -> str:
        return self.label


class InvitationStatus(models.TextChoices):
    # Waiting for its moment (CSAT/CES: the delay after the solve).
    SCHEDULED = "scheduled", "Scheduled"
    SENT = "sent", "Sent"
    # Not sent, and why (``skip_reason``): reopened, spam, merged, throttled, unsubscribed,
    # bouncing, no survey, no address.
    SKIPPED = "skipped", "Not sent"


class Invitation(models.Model):
    """One survey asked of one customer. The answer links carry a signed token naming it
    (``feedback.links``); ``expires_at`` ends them."""

    kind = models.CharField(max_length=8, choices=SurveyKind.choices)
    survey = models.ForeignKey(Survey, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="survey_invitations")
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="surveys")
    # Copied from the ticket when the invitation is made: the score stays with them.
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=20, blank=True)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    language = models.CharField(max_length=16, blank=True)
    # The CSAT scale it was sent with: answers are read on it even if the survey changes later.
    scale = models.CharField(max_length=10, choices=CsatScale.choices, default=CsatScale.FIVE)
    status = models.CharField(max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.SCHEDULED)
    skip_reason = models.CharField(max_length=200, blank=True)
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    address = models.CharField(max_length=320, blank=True)
    outbound = models.ForeignKey(
        "mail.OutboundMail", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A ticket is asked each kind of survey once, however often it is solved.
            models.UniqueConstraint(
                fields=["kind", "ticket"], condition=models.Q(ticket__isnull=False), name="feedback_invitation_once"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="feedback_invitation_due"),
            models.Index(fields=["customer", "sent_at"], name="feedback_invitation_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.customer_id} ({self.status})"

    @property
    def values(self) -> tuple[int, ...]:
        """The answers it takes, on the scale it was sent with."""
        return SCALE_VALUES[self.scale if self.kind == SurveyKind.CSAT else self.kind]


class ResponseVia(models.TextChoices):
    EMAIL = "email", "E-mail link"
    PORTAL = "portal", "Portal"


class SurveyResponse(models.Model):
    """The answer to an invitation (answering again replaces it)."""

    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="response")
    score = models.SmallIntegerField()
    comment = models.TextField(blank=True)
    reason = models.ForeignKey(SurveyReason, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    via = models.CharField(max_length=10, choices=ResponseVia.choices, default=ResponseVia.EMAIL)
    answered_at = models.DateTimeField(default=timezone.now, db_index=True)
    first_answered_at = models.DateTimeField(default=timezone.now)
    changes = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-answered_at", "-id"]

    def __str__(self) -> str:
        return f"{self.score} for invitation {self.invitation_id}"


class Unsubscribe(models.Model):
    """A customer who asked for no more surveys: honoured by every survey, whatever the link or
    page it was asked from."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="survey_unsubscribe")
    at = models.DateTimeField(default=timezone.now)
    via = models.CharField(max_length=10, choices=ResponseVia.choices, default=ResponseVia.EMAIL)

    def __str__(self) -> str:
        return f"{self.customer_id} unsubscribed"


class FeedbackSettings(models.Model):
    """The desk's survey settings (one row, ``current()``)."""

    # No customer gets two surveys less than this many days apart.
    throttle_days = models.PositiveIntegerField(default=30)
    # How long an invitation's answer links work.
    link_days = models.PositiveIntegerField(default=30)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Surveys at most every {self.throttle_days} days; links work {self.link_days} days"

    @classmethod
    def current(cls) -> FeedbackSettings:
        found, _ = cls.objects.get_or_create(pk=1)
        return found


class FollowUpOutcome(models.TextChoices):
    RESOLVED = "resolved", "Reached: put right"
    REACHED = "reached", "Reached: could not be put right"
    UNREACHABLE = "unreachable", "Could not reach them"
    DECLINED = "declined", "They did not want to talk"


class FollowUp(models.Model):
    """A negative answer someone must call back about (the survey's ``follow_up_negative``): the
    team lead's queue, with the recorded outcome, so a manager can show that every unhappy
    customer was contacted."""

    response = models.OneToOneField(SurveyResponse, on_delete=models.CASCADE, related_name="follow_up")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The team's lead when it was opened (None: no lead; every manager sees it).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=12, choices=FollowUpOutcome.choices, blank=True)
    notes = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["closed_at", "created_at"], name="feedback_followup_open")]

    def __str__(self) -> str:
        return f"Follow-up of response {self.response_id}"


# --- voice of the customer -----------------------------------------------------------------------


class Theme(models.Model):
    """A theme found in what customers write (``feedback.voice``). ``number`` is its identity
    across the nightly re-clusterings: a theme whose content did not change keeps it."""

    number = models.PositiveIntegerField(unique=True)
    label = models.CharField(max_length=200)
    keywords = models.JSONField(default=list)
    examples = models.JSONField(default=list)
    # Texts in it at the last clustering.
    size = models.PositiveIntegerField(default=0)
    # The centroid (float32, unit length) in the vector space ``space`` of the clustering.
    centroid = models.BinaryField()
    space = models.CharField(max_length=200)
    # In the latest clustering (an old theme is kept, inactive, for its history).
    active = models.BooleanField(default=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-size", "number"]

    def __str__(self) -> str:
        return self.label


class ThemeRun(models.Model):
    """One clustering: when, on what, and what new texts are assigned with (the latest one)."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    backend = models.CharField(max_length=20)
    texts = models.PositiveIntegerField()
    themes = models.PositiveIntegerField()
    unthemed = models.PositiveIntegerField()
    threshold = models.FloatField()
    seconds = models.FloatField()
    # The fitted TF-IDF embedder (pickled) when the fallback made the themes; empty for the
    # embedding model, which is the same everywhere.
    embedder = models.BinaryField(blank=True, default=b"")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.themes} themes from {self.texts} texts ({self.backend})"


class TextInsight(models.Model):
    """A customer's message or survey comment as analysed: its theme (None: none near enough, or
    not clustered yet) and sentiment. Exactly one of ``message`` and ``response``."""

    message = models.OneToOneField(
        "tickets.Message", null=True, blank=True, on_delete=models.CASCADE, related_name="insight"
    )
    response = models.OneToOneField(
        SurveyResponse, null=True, blank=True, on_delete=models.CASCADE, related_name="insight"
    )
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # When it was written (the trend's time).
    at = models.DateTimeField()
    theme = models.ForeignKey(Theme, null=True, blank=True, on_delete=models.SET_NULL, related_name="texts")
    similarity = models.FloatField(default=0)
    sentiment = models.CharField(max_length=10)
    sentiment_score = models.FloatField()
    analyzed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["theme", "at"], name="insight_theme_at"),
            models.Index(fields=["at"], name="insight_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(message__isnull=False, response__isnull=True)
                | models.Q(message__isnull=True, response__isnull=False),
                name="insight_one_source",
            )
        ]

    def __str__(self) -> str:
        source = f"message {self.message_id}" if self.message_id else f"response {self.response_id}"
        return f"insight of {source}"


class InsightCursor(models.Model):
    """How far the analysis of new customer messages has got (one row): the last message id."""

    last_message_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"messages analysed up to {self.last_message_id}"
