"""The clock: once a minute, do whatever each pilot's schedule says is due.

Every job is idempotent per period (a round, a reminder, a digest has a unique key), so a
restart, a re-run or a second clock delivers nothing twice. Every job also looks at "now" rather
than at the tick it was meant for: a tick compares the schedule with the time and does what is
due, so a clock that was down for an hour sends that morning's messages on its first tick, and
one that was down for a week sends the current week's once (earlier weeks' rounds are never
opened late: each job looks at the current period only).

Time comes from `deps.clock`, so tests run a simulated fortnight by calling `tick(now)`.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Sequence
from datetime import date, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.outreach.delivery import sender_id
from bot.runtime.deps import Deps
from bot.runtime.heartbeat import beat
from bot.runtime.jobs import JOBS, ScheduledJob
from bot.runtime.logs import log_context

log = logging.getLogger(__name__)

TICK_SECONDS = 60


class Clock:
    """Runs `jobs` on every tick, each daily job once per UTC day.

    The day a daily job last succeeded is remembered here, by this clock: a restarted clock
    runs its daily jobs again on its first tick, which is harmless (they are idempotent) and
    means a job that failed before a crash is not skipped for the rest of the day.
    """

    def __init__(self, deps: Deps, jobs: Sequence[ScheduledJob] = JOBS) -> None:
        self.deps = deps
        self.jobs = tuple(jobs)
        self._done_on: dict[str, date] = {}
        self.clock_id = sender_id()
        self.started_at = deps.clock()
        # When this clock last finished a tick (None: not yet), for `/healthz`.
        self.last_tick: datetime | None = None
        # APScheduler never runs two ticks at once (max_instances=1), but a test or a CLI
        # may call `tick` beside it.
        self._lock = threading.Lock()

    def tick(self, now: datetime | None = None) -> None:
        """Run every job once; one job's failure is logged and does not stop the others."""
        now = now or self.deps.clock()
        for job in self.jobs:
            if job.daily:
                with self._lock:
                    if self._done_on.get(job.name) == now.date():
                        continue
            with log_context(job=job.name):
                try:
                    job.run(self.deps, now)
                except Exception:
                    log.exception(
                        "scheduled job %s failed; it runs again on the next tick", job.name
                    )
                    continue
            if job.daily:
                with self._lock:
                    self._done_on[job.name] = now.date()
        self.last_tick = now
        try:
            beat(self.deps.db, self.clock_id, self.started_at, now)
        except Exception:
            log.exception("could not record the clock's heartbeat")

    def start(self, *, interval: float = TICK_SECONDS) -> BackgroundScheduler:
        """Tick in background threads of this process, at once and then every `interval` s."""
        scheduler = BackgroundScheduler(timezone="UTC")
        scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=interval),
            id="tick",
            # A tick that could not run on time (a busy or suspended process) runs once, late,
            # rather than several times in a row (coalesce), however late (no grace limit):
            # every job looks at "now", so one late tick does all that the missed ones would.
            coalesce=True,
            misfire_grace_time=None,
            max_instances=1,
            next_run_time=self.deps.clock(),
        )
        scheduler.start()
        log.info("clock started: checking schedules every %s s", interval)
        return scheduler

    def run(self, *, stop: threading.Event | None = None) -> None:
        """Tick in the foreground until SIGTERM/SIGINT (or `stop` is set)."""
        stop = stop or threading.Event()
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
        scheduler = self.start()
        stop.wait()
        log.info("stopping the clock after the current tick")
        scheduler.shutdown(wait=True)
