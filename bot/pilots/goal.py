"""Success goals: what a pilot sets out to reach (weekly use, usefulness, hours saved, …), set
with `--goal KEY=VALUE`, and how far from its target a figure may be and still be "close"."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlmodel import Session, delete, select

from bot.errors import PulseError
from storage.models import Goal, Pilot
from storage.types import utcnow


@dataclass(frozen=True)
class GoalMetric:
    """A figure a goal can be set on."""

    key: str
    label: str
    low: float  # the smallest target that makes sense
    high: float
    unit: str  # "%" for shares (stored 0..1), "h" for hours, "" for scores
    # How far under its target a figure may be and still count as close, for the 30-day
    # verdict: a tenth of the figure's whole range, or a fifth of the target where the range
    # has no top (hours).
    margin: float | None
    example: str

    def margin_for(self, target: float) -> float:
        return self.margin if self.margin is not None else abs(target) * 0.2


GOAL_METRICS: dict[str, GoalMetric] = {
    metric.key: metric
    for metric in (
        GoalMetric("weekly_usage", "Weekly use", 0, 1, "%", 0.1, "0.7 (70% used it weekly)"),
        GoalMetric("response_rate", "Response rate", 0, 1, "%", 0.1, "0.6"),
        GoalMetric("usefulness", "Usefulness", 0, 10, "", 0.4, "4 (on the 1–5 scale)"),
        GoalMetric("trust", "Trust in output", 0, 10, "", 0.4, "3.5"),
        GoalMetric("recommend", "Would recommend", 0, 10, "", 1.0, "7 (on 0–10)"),
        GoalMetric("nps", "Recommend score (NPS)", -100, 100, "", 20.0, "20"),
        GoalMetric("hours_saved", "Hours saved a week", 0, 100_000, "h", None, "20"),
        GoalMetric("hours_per_person", "Hours saved per person", 0, 40, "h", None, "1"),
        GoalMetric("sentiment", "Sentiment", -1, 1, "", 0.2, "0.2 (on −1…+1)"),
    )
}

# What the 30-day review holds a pilot to when it has set no goals of its own.
DEFAULT_GOALS: dict[str, float] = {"weekly_usage": 0.6, "usefulness": 3.5, "response_rate": 0.6}


def parse_goal(text: str) -> tuple[str, float]:
    """`weekly_usage=0.7` (or `=70%`) → ("weekly_usage", 0.7); PulseError says what is wrong."""
    key, sep, raw = text.partition("=")
    key, raw = key.strip().lower(), raw.strip()
    known = ", ".join(GOAL_METRICS)
    if not sep or not key or not raw:
        raise PulseError(f"--goal: expected KEY=VALUE such as weekly_usage=0.7, got {text!r}")
    metric = GOAL_METRICS.get(key)
    if metric is None:
        raise PulseError(f"--goal: unknown goal {key!r}; goals: {known}")
    percent = raw.endswith("%")
    try:
        value = float(raw.rstrip("%").strip())
    except ValueError:
        raise PulseError(f"--goal {key}: expected a number, got {raw!r}") from None
    if percent:
        if metric.unit != "%":
            raise PulseError(f"--goal {key}: a percentage fits only shares, e.g. weekly_usage")
        value /= 100
    if not metric.low <= value <= metric.high:
        shown = (
            f"{metric.low:g} to {metric.high:g}" if metric.unit != "%" else "0 to 1 (or 0% to 100%)"
        )
        raise PulseError(f"--goal {key}: expected {shown}, e.g. {metric.example}; got {raw!r}")
    return key, value


def parse_goals(texts: Iterable[str]) -> dict[str, float]:
    """Every `--goal` given; a goal named twice keeps its last value."""
    goals: dict[str, float] = {}
    for text in texts:
        key, value = parse_goal(text)
        goals[key] = value
    return goals


def set_goals(session: Session, pilot: Pilot, goals: Mapping[str, float]) -> None:
    """Make `goals` the pilot's goals for those metrics (others are kept)."""
    if not goals:
        return
    session.exec(delete(Goal).where(Goal.pilot_id == pilot.id, Goal.metric.in_(list(goals))))
    now = utcnow()
    for metric, target in goals.items():
        session.add(Goal(pilot_id=pilot.id, metric=metric, target=target, set_at=now))


def goals_of(session: Session, pilot_id: int) -> dict[str, float]:
    """The pilot's goals, in the order of `GOAL_METRICS`."""
    rows = dict(
        session.exec(select(Goal.metric, Goal.target).where(Goal.pilot_id == pilot_id)).all()
    )
    return {key: rows[key] for key in GOAL_METRICS if key in rows}
