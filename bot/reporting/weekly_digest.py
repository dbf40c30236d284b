"""Composing the weekly digest of one pilot and period: the period's figures, last week's, the
trend, frictions and wins, goals and the 30-day review, and what to do next. Reads only SQL
aggregates and the kept snapshots of past weeks; posts nothing (`bot.outreach.digest` does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, func
from sqlmodel import Session, select

from bot.outreach.round import chosen_period
from bot.pilots.goal import DEFAULT_GOALS, GOAL_METRICS, goals_of
from bot.pilots.period import parse_period, previous, zone
from bot.pilots.pilot import get_pilot
from bot.privacy.names import workspace_scrubber
from bot.reporting.advice import next_steps
from bot.reporting.digest import (
    DigestContent,
    NetPromoter,
    Participation,
    Score,
    Sentiment,
    Share,
    TimeSaved,
)
from bot.reporting.frictions import voices
from bot.reporting.history import Headline, History, headline
from bot.reporting.metrics import PeriodFigures, period_figures, rounds_of_period
from bot.reporting.review import evaluate_goals, review
from storage import Database
from storage.models import Analysis, AnalysisStatus, Pilot

if TYPE_CHECKING:
    from bot.analysis.model import ModelClient
    from bot.privacy.scrub import Scrubber

_SCORES = (("usefulness", "Usefulness"), ("trust", "Trust in output"), ("recommend", "Recommend"))


def day_number(pilot: Pilot, period: str, now: datetime) -> int:
    """The pilot's day at the end of `period` (or today, while the period runs): day 1 is the
    day it was created, in its own time zone."""
    tz = zone(pilot.timezone)
    year, week = parse_period(period)
    end = date.fromisocalendar(year, week, 7)
    today = now.astimezone(tz).date()
    started = pilot.created_at.astimezone(tz).date()
    return max(1, (min(end, today) - started).days + 1)


def _score(figures: PeriodFigures, key: str, label: str) -> Score | None:
    question = next((q for q in figures.questions if q.key == key), None)
    if question is None:
        return None
    return Score(
        key=key,
        label=label,
        mean=question.mean,
        low=question.min,
        high=question.max,
        n=question.n if question.mean is not None else None,
        previous=question.previous_mean,
    )


def _actuals(current: Headline) -> dict[str, float | None]:
    """The figure each goal is measured by: the headline figure of the same name."""
    return {metric: current.get(metric) for metric in GOAL_METRICS}


# Built once: an IN list built per call leaves a reference cycle for the garbage collector.
_COMMENTS = select(func.count()).where(
    Analysis.round_id.in_(bindparam("round_ids", expanding=True)),
    Analysis.status == AnalysisStatus.DONE,
)


def _comments(session: Session, round_ids: list[int]) -> int:
    """How many texts people wrote this period (pulse comments and check-ins), analysed."""
    if not round_ids:
        return 0
    return session.exec(_COMMENTS, params={"round_ids": round_ids}).one()


@dataclass
class _Read:
    content: DigestContent
    comments: int
    scrubber: Scrubber


def _read(session: Session, pilot: Pilot, period: str, now: datetime) -> tuple[_Read, History]:
    minimum = pilot.min_group_size
    history = History(session, pilot, now)
    # Last week from its kept figures (counted once, when it became final).
    last = history.weeks([previous(period)]).get(previous(period), {})
    figures = period_figures(session, pilot, period, now=now, previous=last)
    current = headline(figures)
    history.keep(period, current)
    trend = history.trend(period, current)
    round_ids = rounds_of_period(session, pilot.id, period)
    enough = figures.responded is not None
    found = voices(session, round_ids, minimum) if enough else None
    adoption = figures.adoption
    content = DigestContent(
        pilot=pilot.name,
        tool=pilot.tool,
        workflow=pilot.workflow,
        period=period,
        previous_period=previous(period),
        day=day_number(pilot, period, now),
        min_group_size=minimum,
        enough=enough,
        participation=Participation(
            invited=figures.invited,
            responded=figures.responded,
            response_rate=figures.response_rate,
            previous_invited=last.get("invited"),
            previous_responded=last.get("responded"),
            previous_response_rate=last.get("response_rate"),
        ),
        weekly_usage=Share(
            adoption.weekly_usage, adoption.weekly_usage_n, last.get("weekly_usage")
        ),
        scores=[s for key, label in _SCORES if (s := _score(figures, key, label)) is not None],
        nps=NetPromoter(adoption.nps, adoption.nps_n, last.get("nps"))
        if adoption.nps is not None or last.get("nps") is not None
        else None,
        time_saved=TimeSaved(
            adoption.hours_total,
            adoption.hours_per_person,
            adoption.hours_n,
            last.get("hours_saved"),
        ),
        sentiment=Sentiment(figures.sentiment_mean, figures.sentiment_n, last.get("sentiment")),
        frictions=found.frictions if found else [],
        wins=found.wins if found else [],
        themes_withheld=found.withheld if found else 0,
        trend=trend,
        figures=figures,
    )
    goals = goals_of(session, pilot.id)
    actuals = _actuals(current)
    content.goals = (
        evaluate_goals(goals, actuals)
        if goals
        else evaluate_goals(DEFAULT_GOALS, actuals, default=True)
    )
    if content.review_due:
        content.review = review(content.goals)
    return _Read(content, _comments(session, round_ids), workspace_scrubber(session)), history


def compose_digest(
    db: Database,
    pilot_name: str,
    period: str | None,
    now: datetime,
    *,
    llm: ModelClient | None = None,
) -> DigestContent:
    """The digest of `pilot_name` for `period` (default: the current one)."""
    with db.session() as session:
        pilot = get_pilot(session, pilot_name)
        period = chosen_period(session, pilot, period, now)
        read, history = _read(session, pilot, period, now)
    history.save(db)
    # The model, if any, is asked outside any transaction: it may take seconds.
    read.content.next_steps = next_steps(
        read.content, llm=llm, comments=read.comments, scrub=read.scrubber.scrub
    )
    return read.content
