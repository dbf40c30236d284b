"""A pilot's weeks gone by: each period's headline figures, kept as a snapshot once the period
is final (its rounds closed, so its answers can no longer change), and the trend of the last
weeks read from those snapshots.

The snapshots keep the digest's cost flat as a pilot's history grows: a trend of twelve weeks
is twelve small rows, not twelve weeks of answers. A snapshot holds figures already withheld
under the minimum group it was computed for; a pilot whose minimum changes gets new ones, and
erasing a person's answers drops their pilots' snapshots (`bot.privacy.own_data.erase`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, select

from bot.pilots.period import period_bounds, period_of, shift
from bot.reporting.chart import TrendPoint
from bot.reporting.metrics import PeriodFigures, period_figures
from storage import Database
from storage.models import PeriodSnapshot, Pilot, Round
from storage.upsert import upsert

TREND_WEEKS = 12

Headline = dict[str, Any]

# Built once: an IN list built per call leaves a reference cycle for the garbage collector.
_STORED = select(PeriodSnapshot.period, PeriodSnapshot.figures).where(
    PeriodSnapshot.pilot_id == bindparam("pilot_id"),
    PeriodSnapshot.period.in_(bindparam("periods", expanding=True)),
    PeriodSnapshot.min_group_size == bindparam("min_group_size"),
)


def _mean(figures: PeriodFigures, key: str) -> float | None:
    return next((q.mean for q in figures.questions if q.key == key), None)


def headline(figures: PeriodFigures) -> Headline:
    """The figures a trend and a change against last week need, as plain values (None where
    withheld)."""
    usefulness = next((q for q in figures.questions if q.key == "usefulness"), None)
    return {
        "invited": figures.invited if figures.addressed else None,
        "responded": figures.responded,
        "response_rate": figures.response_rate,
        "usefulness": usefulness.mean if usefulness else None,
        "usefulness_max": usefulness.max if usefulness else None,
        "trust": _mean(figures, "trust"),
        "recommend": _mean(figures, "recommend"),
        "nps": figures.adoption.nps,
        "weekly_usage": figures.adoption.weekly_usage,
        "hours_saved": figures.adoption.hours_total,
        "hours_per_person": figures.adoption.hours_per_person,
        "sentiment": figures.sentiment_mean,
        # Every question's mean, so that a kept week can be "last week" to any question.
        "means": {q.key: q.mean for q in figures.questions if q.mean is not None},
    }


def is_final(session: Session, pilot: Pilot, period: str, now: datetime) -> bool:
    """Whether the period's figures can no longer change: it has ended and so have its rounds."""
    if period_bounds(period, pilot.timezone)[1] > now:
        return False
    still_open = session.exec(
        select(Round.id).where(
            Round.pilot_id == pilot.id, Round.period == period, Round.closes_at > now
        )
    ).first()
    return still_open is None


def _point(period: str, figures: Headline | None) -> TrendPoint:
    figures = figures or {}
    return TrendPoint(
        period=period,
        response_rate=figures.get("response_rate"),
        usefulness=figures.get("usefulness"),
        usefulness_max=figures.get("usefulness_max"),
        sentiment=figures.get("sentiment"),
        weekly_usage=figures.get("weekly_usage"),
    )


class History:
    """The headline figures of a pilot's periods, from snapshots where they exist; what had to
    be computed and is final is remembered, to be saved with `save`."""

    def __init__(self, session: Session, pilot: Pilot, now: datetime) -> None:
        self.session = session
        self.pilot = pilot
        self.now = now
        self.new: dict[str, Headline] = {}

    def _stored(self, periods: Iterable[str]) -> dict[str, Headline]:
        rows = self.session.exec(
            _STORED,
            params={
                "pilot_id": self.pilot.id,
                "periods": list(periods),
                "min_group_size": self.pilot.min_group_size,
            },
        ).all()
        return {period: figures for period, figures in rows}

    def weeks(self, periods: list[str]) -> dict[str, Headline]:
        """The headline of each period (periods before the pilot began are left out)."""
        started = period_of(self.pilot.created_at, self.pilot.timezone)
        wanted = [p for p in periods if p >= started]
        found = self._stored(wanted)
        for period in wanted:
            if period in found:
                continue
            figures = headline(period_figures(self.session, self.pilot, period, now=self.now))
            found[period] = figures
            if is_final(self.session, self.pilot, period, self.now):
                self.new[period] = figures
        return found

    def keep(self, period: str, figures: Headline) -> None:
        """Keep a period computed elsewhere (the digest's own), if it is final."""
        if is_final(self.session, self.pilot, period, self.now):
            self.new[period] = figures

    def trend(self, period: str, current: Headline, weeks: int = TREND_WEEKS) -> list[TrendPoint]:
        """The last `weeks` periods up to `period` (whose figures are `current`), oldest first;
        a week before the pilot began is not drawn."""
        earlier = [shift(period, -back) for back in range(weeks - 1, 0, -1)]
        known = self.weeks(earlier)
        points = [_point(p, known[p]) for p in earlier if p in known]
        return [*points, _point(period, current)]

    def save(self, db: Database) -> None:
        """Keep the final periods computed on the way, for the next digest."""
        if not self.new:
            return
        with db.transaction() as session:
            for period, figures in self.new.items():
                upsert(
                    session,
                    PeriodSnapshot,
                    {
                        "pilot_id": self.pilot.id,
                        "period": period,
                        "min_group_size": self.pilot.min_group_size,
                        "figures": figures,
                        "computed_at": self.now,
                    },
                    key=["pilot_id", "period"],
                    update=["min_group_size", "figures", "computed_at"],
                )
