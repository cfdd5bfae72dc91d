"""Which survey applies, and what its e-mail says.

For a ticket's CSAT or CES survey: the active survey of the ticket's team in the customer's
language, else the team's survey for any language, else the survey for every team in the
customer's language, else the one for every team and any language. No active survey: nothing is
sent (surveys are off until a manager turns one on).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.template import Context, Template
from django.template.loader import render_to_string
from django.utils.html import linebreaks
from django.utils.safestring import mark_safe

from deskpilot.core.html import sanitize_html
from deskpilot.feedback import links
from deskpilot.feedback.models import Invitation, Survey, SurveyKind

# The built-in texts a new survey starts from (the manager edits them per team and language).
DEFAULT_TEXTS: dict[str, dict[str, str]] = {
    SurveyKind.CSAT: {
        "name": "Satisfaction after a solve",
        "subject": "How did we do? {{ ticket.subject }}",
        "intro": "Hello {{ customer.name }},\n\nwe recently solved your request #{{ ticket.pk }}.",
        "question": "How satisfied are you with the help you received?",
    },
    SurveyKind.CES: {
        "name": "Effort after a solve",
        "subject": "Was it easy? {{ ticket.subject }}",
        "intro": "Hello {{ customer.name }},\n\nwe recently solved your request #{{ ticket.pk }}.",
        "question": "It was easy to get my issue handled.",
    },
    SurveyKind.NPS: {
        "name": "Would you recommend us?",
        "subject": "One question about us",
        "intro": "Hello {{ customer.name }},",
        "question": "How likely are you to recommend us to a friend or colleague?",
    },
}

# What the ends of each scale mean, shown beside the buttons.
SCALE_ENDS: dict[str, tuple[str, str]] = {
    SurveyKind.CSAT: ("Very dissatisfied", "Very satisfied"),
    SurveyKind.CES: ("Strongly disagree", "Strongly agree"),
    SurveyKind.NPS: ("Not at all likely", "Extremely likely"),
}


def survey_for(kind: str, team_id: int | None, language: str) -> Survey | None:
    candidates = Survey.objects.filter(kind=kind, active=True).filter(
        (Q(team_id=team_id) if team_id is not None else Q(pk__in=[])) | Q(team__isnull=True)
    )
    candidates = candidates.filter(Q(language=language) | Q(language=""))

    def rank(survey: Survey) -> tuple[bool, bool]:
        return (survey.team_id is None, survey.language == "")

    return min(candidates, key=rank, default=None)


def scale_ends(kind: str, scale: str) -> tuple[str, str]:
    """What the lowest and the highest answer mean, shown beside the buttons."""
    return ("Bad", "Good") if kind == SurveyKind.CSAT and scale == "good_bad" else SCALE_ENDS[kind]


def answer_label(kind: str, scale: str, score: int) -> str:
    """How an answer reads: "Good", "4 of 5", "9 of 10"."""
    if kind == SurveyKind.CSAT and scale == "good_bad":
        return "Good" if score else "Bad"
    top = {"three": 3, "five": 5}.get(scale, 5) if kind == SurveyKind.CSAT else (10 if kind == SurveyKind.NPS else 7)
    return f"{score} of {top}"


def _render(text: str, context: dict[str, Any], *, autoescape: bool) -> str:
    return Template(text).render(Context(context, autoescape=autoescape))


def email_for(invitation: Invitation, survey: Survey) -> tuple[str, str, str]:
    """(subject, text body, HTML body) of the invitation's e-mail: the survey's texts around
    one answer link per value of the scale, and the unsubscribe link."""
    context = {"customer": invitation.customer, "ticket": invitation.ticket}
    subject = " ".join(_render(survey.subject, context, autoescape=False).split())
    intro_text = _render(survey.intro, context, autoescape=False).strip()
    # Rendered with autoescaping: what the customer's name or subject holds is text, never markup.
    # and what the manager wrote is sanitised, as every rich text is.
    intro_html = mark_safe(sanitize_html(linebreaks(_render(survey.intro, context, autoescape=True).strip())))  # noqa: S308
    question = _render(survey.question, context, autoescape=False).strip()
    options = [
        (value, answer_label(invitation.kind, invitation.scale, value), links.answer_url(invitation.pk, value))
        for value in invitation.values
    ]
    low, high = scale_ends(invitation.kind, invitation.scale)
    unsubscribe = links.unsubscribe_url(invitation.pk)
    lines = [intro_text, "", question, f"({options[0][1]}: {low} … {options[-1][1]}: {high})", ""]
    lines += [f"{label}: {url}" for _, label, url in options]
    lines += ["", "No more surveys from us: " + unsubscribe]
    html = render_to_string(
        "feedback/email_survey.html",
        {
            "subject": subject,
            "intro_html": intro_html,
            "question": question,
            "options": options,
            "low": f"{options[0][1]}: {low}",
            "high": f"{options[-1][1]}: {high}",
            "unsubscribe_url": unsubscribe,
        },
    )
    return subject, "\n".join(lines) + "\n", html
