"""``deskpilot worker``: the job worker, which is Huey's consumer (djhuey's ``run_huey``) with the
queue configured in settings.HUEY: SqliteHuey in DATA_DIR, or RedisHuey with DESKPILOT_REDIS_URL.

It imports the ``tasks`` module of every installed app before starting (run_huey's autodiscovery),
so ``tickets.auto_close`` and every other task and timer is known to it. Start as many workers as
the load needs, on one machine or several (with Redis); tasks are idempotent.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from huey.consumer import Consumer
from huey.contrib.djhuey import HUEY
from huey.contrib.djhuey.management.commands.run_huey import Command as RunHuey

from deskpilot import cli

READY_LINE = "Worker ready: Ctrl-C stops it once the running jobs finish."


class _ReadyConsumer(Consumer):
    """Huey's consumer, saying when it is ready. Huey installs its own Ctrl-C handling last, after
    its start-up lines; a Ctrl-C before that ends the start-up instead of stopping gracefully, so
    supervisors and tests wait for this line."""

    def _set_signal_handlers(self) -> None:
        super()._set_signal_handlers()
        self._logger.info(READY_LINE)


class Command(RunHuey):
    help = (
        "Run a job worker: background jobs and periodic timers (e.g. tickets.auto_close). "
        "Ctrl-C (SIGINT) lets running jobs finish, then stops; SIGTERM stops at once, and "
        "the interrupted jobs run again later."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.HUEY_IMMEDIATE:
            # With DESKPILOT_JOBS_IMMEDIATE every job runs inside the request that queued it;
            # a worker would wait forever on a queue nobody writes to.
            raise cli.usage_error("DESKPILOT_JOBS_IMMEDIATE is on: jobs run inline, so there is nothing to work on")
        huey_logger = logging.getLogger("huey")
        if not options.get("logfile") and not huey_logger.handlers:
            # Huey's records already reach the console through settings.LOGGING; without a
            # handler of its own here, run_huey would add one and print every line twice.
            huey_logger.addHandler(logging.NullHandler())
            if options.get("verbose"):
                huey_logger.setLevel(logging.DEBUG)
            elif options.get("verbose") is None:
                # The start-up lines say which queue and which tasks this worker serves; the
                # per-job lines stay at the settings' WARNING level unless --verbose.
                logging.getLogger("huey.consumer").setLevel(logging.INFO)
        # run_huey builds its consumer with HUEY.create_consumer; this process's instance builds ours.
        HUEY.create_consumer = lambda **consumer_options: _ReadyConsumer(HUEY, **consumer_options)
        super().handle(*args, **options)
