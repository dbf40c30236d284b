"""The weekly adoption digest's content: what leadership reads about one pilot and one period,
composed from the period's figures (SQL aggregates, minimum-group rule applied), the pilot's
goals, the frictions and wins people raised, the trend, and what to do next.

Every figure here about people is None when fewer people than the pilot's minimum group stand
behind it; a theme, a quote or a goal's verdict never rests on a withheld figure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.reporting.chart import TrendPoint
    from bot.reporting.metrics import PeriodFigures

# From this day of a pilot on, the digest opens with the 30-day review.
REVIEW_FROM_DAY = 28


def change(value: float | None, previous: float | None, digits: int = 3) -> float | None:
    """`value - previous`, or None when either is unknown or withheld."""
    if value is None or previous is None:
        return None
    return round(value - previous, digits)


@dataclass(frozen=True)
class Participation:
    """Who the pulse reached and who answered, against the period before."""

    invited: int  # people the pulse reached (a count of deliveries, always shown)
    responded: int | None
    response_rate: float | None  # 0..1
    previous_invited: int | None = None
    previous_responded: int | None = None
    previous_response_rate: float | None = None

    @property
    def invited_change(self) -> int | None:
        if self.previous_invited is None:
            return None
        return self.invited - self.previous_invited

    @property
    def responded_change(self) -> int | None:
        if self.responded is None or self.previous_responded is None:
            return None
        return self.responded - self.previous_responded

    @property
    def response_rate_change(self) -> float | None:
        return change(self.response_rate, self.previous_response_rate)


@dataclass(frozen=True)
class Share:
    """A share of the people who answered a question (0..1), e.g. who used the tool weekly."""

    value: float | None
    n: int | None
    previous: float | None = None

    @property
    def change(self) -> float | None:
        return change(self.value, self.previous)


@dataclass(frozen=True)
class Score:
    """The mean of a scale question (usefulness, trust, recommend), against the period before."""

    key: str
    label: str  # "Usefulness"
    mean: float | None
    low: float | None  # the scale, e.g. 1..5 or 0..10
    high: float | None
    n: int | None
    previous: float | None = None

    @property
    def change(self) -> float | None:
        return change(self.mean, self.previous, 2)


@dataclass(frozen=True)
class NetPromoter:
    """NPS-style score of the recommend question (0..10): % promoters (9-10) minus %
    detractors (0-6), from -100 to 100."""

    score: float | None
    n: int | None
    previous: float | None = None

    @property
    def change(self) -> float | None:
        return change(self.score, self.previous, 1)


@dataclass(frozen=True)
class TimeSaved:
    """Estimated hours a week the tool saved, from the time-saved question's bands."""

    hours_total: float | None  # across the people who answered
    hours_per_person: float | None
    n: int | None
    previous_total: float | None = None


@dataclass(frozen=True)
class Sentiment:
    mean: float | None  # -1..1
    n: int | None
    previous: float | None = None

    @property
    def change(self) -> float | None:
        return change(self.mean, self.previous)


@dataclass(frozen=True)
class ThemeVoice:
    """A theme people raised as a friction (or a win), how many different people raised it,
    and up to two short scrubbed quotes. Only themes raised by at least the minimum group of
    people are listed; quotes are scrubbed text, never names."""

    theme: str  # a key of the taxonomy, e.g. "access_licensing"
    label: str  # "access and licensing"
    people: int
    quotes: tuple[str, ...] = ()


class GoalStatus(StrEnum):
    ON_TRACK = "on_track"
    OFF_TRACK = "off_track"
    NOT_ENOUGH_DATA = "not_enough_data"


class Verdict(StrEnum):
    """The 30-day review's verdict, per goal and overall (rule in the README)."""

    EXPAND = "expand"
    KEEP_GOING = "keep_going"
    RETHINK = "rethink"
    NOT_ENOUGH_DATA = "not_enough_data"


@dataclass(frozen=True)
class GoalResult:
    """One success goal: its target, this period's actual figure and how it stands."""

    metric: str  # "weekly_usage"
    label: str  # "Weekly use"
    target: float
    actual: float | None  # None: withheld or not asked
    status: GoalStatus
    verdict: Verdict  # used from day 28
    unit: str = ""  # "%" for shares (values 0..1), "h" for hours, "" for scores
    default: bool = False  # a default goal, the pilot having set none


@dataclass(frozen=True)
class Review:
    """The 30-day review: an overall verdict backed by the goals beside it."""

    verdict: Verdict
    reasons: tuple[str, ...]  # one line each, plain words, figures included


@dataclass(frozen=True)
class NextSteps:
    """A short summary and two or three suggested actions, from the model (grounded in the
    figures and themes handed to it) or from the deterministic rules."""

    summary: str
    actions: tuple[str, ...]
    source: str = "local"  # "local", or "openai:MODEL"
    prompt_version: str | None = None  # e.g. "digest@1" when a model wrote it
    note: str | None = None  # why the model's answer was not used, if it was not


@dataclass
class DigestContent:
    """Everything one digest says, for one pilot and period; views render it, `as_json`
    prints it."""

    pilot: str
    tool: str
    period: str
    previous_period: str
    day: int  # the pilot's day number at the end of the period (day 1 = the day it started)
    min_group_size: int
    enough: bool  # False: too few answers; the digest then shows no figure about people
    participation: Participation
    weekly_usage: Share
    scores: list[Score] = field(default_factory=list)
    nps: NetPromoter | None = None
    time_saved: TimeSaved | None = None
    sentiment: Sentiment = field(default_factory=lambda: Sentiment(None, None))
    frictions: list[ThemeVoice] = field(default_factory=list)
    wins: list[ThemeVoice] = field(default_factory=list)
    themes_withheld: int = 0  # themes raised by too few people to be shown
    goals: list[GoalResult] = field(default_factory=list)
    review: Review | None = None  # from day 28
    next_steps: NextSteps | None = None
    trend: list[TrendPoint] = field(default_factory=list)
    figures: PeriodFigures | None = field(default=None, repr=False)
    workflow: str | None = None

    @property
    def review_due(self) -> bool:
        return self.day >= REVIEW_FROM_DAY

    def as_json(self) -> dict[str, Any]:
        """The report's fields (the operator contract's `report --format json`) and the
        digest's own: day, goals, frictions, wins, summary, actions, verdict."""
        report = self.figures.as_report() if self.figures is not None else {}
        return {
            **report,
            "digest": {
                "day": self.day,
                "review_due": self.review_due,
                "enough_answers": self.enough,
                "participation": {
                    "invited": self.participation.invited,
                    "invited_change": self.participation.invited_change,
                    "responded": self.participation.responded,
                    "responded_change": self.participation.responded_change,
                    "response_rate": self.participation.response_rate,
                    "response_rate_change": self.participation.response_rate_change,
                },
                "weekly_usage": {
                    "share": self.weekly_usage.value,
                    "n": self.weekly_usage.n,
                    "change": self.weekly_usage.change,
                },
                "scores": [
                    {
                        "key": score.key,
                        "mean": score.mean,
                        "min": score.low,
                        "max": score.high,
                        "n": score.n,
                        "change": score.change,
                    }
                    for score in self.scores
                ],
                "nps": None
                if self.nps is None
                else {"score": self.nps.score, "n": self.nps.n, "change": self.nps.change},
                "time_saved": None
                if self.time_saved is None
                else {
                    "hours_per_week": self.time_saved.hours_total,
                    "hours_per_person": self.time_saved.hours_per_person,
                    "n": self.time_saved.n,
                },
                "sentiment": {
                    "mean": self.sentiment.mean,
                    "n": self.sentiment.n,
                    "change": self.sentiment.change,
                },
                "frictions": [_voice(voice) for voice in self.frictions],
                "wins": [_voice(voice) for voice in self.wins],
                "themes_withheld": self.themes_withheld,
                "goals": [
                    {
                        "metric": goal.metric,
                        "target": goal.target,
                        "actual": goal.actual,
                        "status": str(goal.status),
                        "verdict": str(goal.verdict),
                        "default": goal.default,
                    }
                    for goal in self.goals
                ],
                "verdict": None
                if self.review is None
                else {"overall": str(self.review.verdict), "reasons": list(self.review.reasons)},
                "summary": self.next_steps.summary if self.next_steps else None,
                "actions": list(self.next_steps.actions) if self.next_steps else [],
                "written_by": self.next_steps.source if self.next_steps else None,
                "prompt_version": self.next_steps.prompt_version if self.next_steps else None,
                "model_note": self.next_steps.note if self.next_steps else None,
                "trend": [
                    {
                        "period": point.period,
                        "response_rate": point.response_rate,
                        "usefulness": point.usefulness,
                        "sentiment": point.sentiment,
                        "weekly_usage": point.weekly_usage,
                    }
                    for point in self.trend
                ],
            },
        }


def _voice(voice: ThemeVoice) -> dict[str, Any]:
    return {"theme": voice.theme, "people": voice.people, "quotes": list(voice.quotes)}
