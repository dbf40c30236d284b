"""The clock's heartbeat: each clock process writes the time of its last tick, so that `doctor`
and `/healthz` can tell a clock that runs from one that stopped (or never started)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import func, select

from storage import Database
from storage.models import ClockBeat
from storage.upsert import upsert

# A clock that has not ticked for this long has stopped (it ticks every minute); its row is
# dropped after a day, so the table holds the clocks of today's processes only.
STALE = timedelta(minutes=5)
FORGOTTEN = timedelta(days=1)


def beat(db: Database, clock_id: str, started_at: datetime, now: datetime) -> None:
    """Record that the clock `clock_id` ticked at `now`."""
    with db.transaction() as session:
        upsert(
            session,
            ClockBeat,
            {"clock_id": clock_id, "started_at": started_at, "beat_at": now},
            key=["clock_id"],
            update=["beat_at"],
        )
        session.execute(delete(ClockBeat).where(ClockBeat.beat_at < now - FORGOTTEN))


def last_beat(db: Database) -> datetime | None:
    """The last tick of any clock, or None when no clock has ticked in the last day."""
    with db.session() as session:
        return session.exec(select(func.max(ClockBeat.beat_at))).one()
