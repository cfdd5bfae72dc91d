"""Survey scores over a period, in total and by team, agent, channel or organization: CSAT, NPS,
CES and the response rate (formulas in ``feedback.scores``, as DOMAIN.md defines them), each
linking to the answers behind it.

A survey counts in the period it was *sent* in: its answer (whenever it came) belongs to it, so the
response rate is answered / sent of the same invitations. Team, agent, channel and organization
are the ones the invitation copied from its ticket when it was made.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Case, Count, IntegerField, Q, QuerySet, When

from deskpilot.accounts.models import Team, User
from deskpilot.customers.models import Organization
from deskpilot.feedback import scores
from deskpilot.feedback.models import Invitation, InvitationStatus, SurveyKind, SurveyResponse
from deskpilot.tickets.models import Channel

BREAKDOWNS = {"team": "team_id", "agent": "agent_id", "channel": "channel", "organization": "organization_id"}

# Which answers are good on each CSAT scale (DOMAIN.md): the SQL twin of scores.csat_good.
_GOOD = (
    Q(invitation__scale="good_bad", score__gte=1)
    | Q(invitation__scale="three", score__gte=3)
    | Q(invitation__scale="five", score__gte=4)
)


def _count_if(condition: Q) -> Count:
    return Count("pk", filter=condition)


@dataclass(frozen=True)
class Scores:
    """The figures of one group of invitations."""

    key: Any
    label: str
    sent: dict[str, int]
    answered: dict[str, int]
    csat: scores.Csat
    nps: scores.Nps
    ces: float | None

    def response_rate(self, kind: str) -> float | None:
        return scores.response_rate(self.sent.get(kind, 0), self.answered.get(kind, 0))


def _period(start: datetime.date, end: datetime.date, prefix: str = "") -> Q:
    """Sent in UTC days ``start``..``end`` (``prefix``: the path to the invitation, e.g. "invitation__")."""
    since = datetime.datetime.combine(start, datetime.time(), tzinfo=datetime.UTC)
    until = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time(), tzinfo=datetime.UTC)
    return Q(
        **{f"{prefix}sent_at__gte": since, f"{prefix}sent_at__lt": until, f"{prefix}status": InvitationStatus.SENT}
    )


def invitations(start: datetime.date, end: datetime.date) -> QuerySet[Invitation]:
    """The invitations sent in the period (UTC days ``start``..``end``)."""
    return Invitation.objects.filter(_period(start, end))


def _labels(by: str | None, keys: list[Any]) -> dict[Any, str]:
    if by is None:
        return {None: "All surveys"}
    ids = [k for k in keys if k is not None]
    names: dict[Any, str]
    if by == "team":
        names = dict(Team.objects.filter(pk__in=ids).values_list("pk", "name"))
    elif by == "agent":
        names = dict(User.objects.filter(pk__in=ids).values_list("pk", "name"))
    elif by == "organization":
        names = dict(Organization.objects.filter(pk__in=ids).values_list("pk", "name"))
    else:
        names = dict(Channel.choices)
    none = {"team": "No team", "agent": "Unassigned", "organization": "No organization", "channel": "—"}[by]
    return {k: names.get(k, "unknown") if k not in (None, "") else none for k in keys}


def score_table(start: datetime.date, end: datetime.date, by: str | None = None) -> list[Scores]:
    """The scores of the period, one row per value of ``by`` (or one row in total): two grouped
    queries (sent per kind; the answers' figures per kind)."""
    column = BREAKDOWNS[by] if by is not None else None
    group = [column] if column else []
    sent: dict[Any, dict[str, int]] = {}
    for row in invitations(start, end).values(*group, "kind").annotate(n=Count("pk")).order_by():
        sent.setdefault(row.get(column) if column else None, {})[row["kind"]] = row["n"]
    answers = SurveyResponse.objects.filter(_period(start, end, "invitation__"))
    answer_group = [f"invitation__{column}"] if column else []
    figures: dict[Any, dict[str, Any]] = {}
    rows = (
        answers.values(*answer_group, "invitation__kind")
        .annotate(
            n=Count("pk"),
            good=_count_if(_GOOD),
            promoters=_count_if(Q(score__gte=9)),
            passives=_count_if(Q(score__gte=7, score__lte=8)),
            mean=Avg(Case(When(invitation__kind=SurveyKind.CES, then="score"), output_field=IntegerField())),
        )
        .order_by()
    )
    for row in rows:
        key = row.get(f"invitation__{column}") if column else None
        figures.setdefault(key, {})[row["invitation__kind"]] = row
    keys = sorted(set(sent) | set(figures), key=lambda k: (k is None, str(k)))
    labels = _labels(by, keys)
    table = []
    for key in keys:
        found = figures.get(key, {})
        csat_row = found.get(SurveyKind.CSAT) or {}
        nps_row = found.get(SurveyKind.NPS) or {}
        ces_row = found.get(SurveyKind.CES) or {}
        rated = csat_row.get("n", 0)
        nps_total = nps_row.get("n", 0)
        promoters, passives = nps_row.get("promoters", 0), nps_row.get("passives", 0)
        table.append(
            Scores(
                key=key,
                label=labels[key],
                sent=sent.get(key, {}),
                answered={kind: (found.get(kind) or {}).get("n", 0) for kind in SurveyKind.values},
                csat=scores.Csat(csat_row.get("good", 0), rated - csat_row.get("good", 0)),
                nps=scores.Nps(promoters, passives, nps_total - promoters - passives),
                ces=ces_row.get("mean"),
            )
        )
    return sorted(table, key=lambda s: s.label.lower()) if by is not None else table


def responses(
    start: datetime.date, end: datetime.date, *, kind: str | None = None, by: str | None = None, key: Any = None
) -> QuerySet[SurveyResponse]:
    """The answers behind a figure: of the period's invitations, of one kind, of one group."""
    found = SurveyResponse.objects.filter(_period(start, end, "invitation__"))
    if kind is not None:
        found = found.filter(invitation__kind=kind)
    if by is not None:
        column = BREAKDOWNS[by]
        found = found.filter(
            **{f"invitation__{column}__isnull": True} if key in (None, "") else {f"invitation__{column}": key}
        )
    return found.select_related(
        "invitation__customer", "invitation__ticket", "invitation__team", "invitation__agent", "reason"
    ).order_by("-answered_at", "-id")
