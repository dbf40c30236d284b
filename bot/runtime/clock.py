"""The clock: once a minute, do whatever each pilot's schedule says is due.

Every job is idempotent per period (a round, a reminder, a digest has a unique key), so a
restart, a re-run or a second clock delivers nothing twice; a job that was missed while the
clock was down runs on the next tick of the same period.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.runtime.deps import Deps

log = logging.getLogger(__name__)

TICK_SECONDS = 60

# Each job takes (deps, now) and does what is due; filled by the modules that own the work.
Job = Callable[[Deps, datetime], None]
JOBS: list[tuple[str, Job]] = []


def register_job(name: str) -> Callable[[Job], Job]:
    """Decorator: run `job` on every tick of the clock."""

    def add(job: Job) -> Job:
        JOBS.append((name, job))
        return job

    return add


def tick(deps: Deps, now: datetime | None = None) -> None:
    """Run every job once; one job's failure is logged and does not stop the others."""
    import bot.runtime.jobs  # noqa: F401 - registers the jobs

    now = now or deps.clock()
    for name, job in JOBS:
        try:
            job(deps, now)
        except Exception:
            log.exception("scheduled job %s failed; it runs again on the next tick", name)


def start_clock(deps: Deps, *, interval: float = TICK_SECONDS) -> BackgroundScheduler:
    """Start the clock in background threads of this process."""
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        tick,
        IntervalTrigger(seconds=interval),
        args=[deps],
        id="tick",
        coalesce=True,
        max_instances=1,
        next_run_time=deps.clock(),
    )
    scheduler.start()
    log.info("clock started: checking schedules every %s s", interval)
    return scheduler


def run_clock(deps: Deps, *, stop: threading.Event | None = None) -> None:
    """Run the clock in the foreground until SIGTERM/SIGINT (or `stop` is set)."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    scheduler = start_clock(deps)
    stop.wait()
    log.info("stopping the clock after the current tick")
    scheduler.shutdown(wait=True)
