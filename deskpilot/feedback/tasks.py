"""Feedback jobs: every minute, the survey invitations whose time has come are sent (as
OutboundMail, which the mail jobs deliver with retries) or skipped with the reason, and the new
customer texts analysed (sentiment, theme); a ticket solved is handed to the worker to schedule its
surveys, and every ten minutes the solves whose scheduling was lost are found and scheduled; every
night at 02:30 the themes are found again (and on a desk never clustered, as soon as its texts are
analysed)."""

from __future__ import annotations

from django.core.cache import cache
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from deskpilot.feedback import actions, voice


@db_periodic_task(crontab(minute="*"), name="feedback.send_surveys")
def send_surveys() -> int:
    return actions.send_due()


@db_task(name="feedback.schedule_surveys")
def schedule_surveys(ticket_id: int) -> int:
    return len(actions.schedule_after_solve(ticket_id))


@db_periodic_task(crontab(minute="*/10"), name="feedback.schedule_missed_surveys")
def schedule_missed_surveys() -> int:
    return actions.schedule_missed()


# Held while the first clustering is queued or runs, so the minute's runs queue it once.
FIRST_THEMES_LOCK = "feedback.first_themes"


@db_periodic_task(crontab(minute="*"), name="feedback.analyze_texts")
def analyze_texts() -> int:
    # Well inside the minute, so runs do not pile up behind a backlog, and one of the worker's
    # threads stays free for the SLA timers and mail meanwhile.
    done = voice.analyze_for(25)
    # Once the backlog is analysed, a desk never clustered gets its first themes now.
    if not done and voice.first_themes_due() and cache.add(FIRST_THEMES_LOCK, 1, 3600):
        find_first_themes()
    return done


@db_task(name="feedback.find_first_themes")
def find_first_themes() -> int:
    return voice.recluster().texts


@db_periodic_task(crontab(hour="2", minute="30"), name="feedback.recluster_themes")
def recluster_themes() -> int:
    return voice.recluster().texts
