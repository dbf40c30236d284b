"""Success goals against this period's figures, and the 30-day review built on them.

Each goal gets a status (on track, off track, not enough data) and a verdict (expand, keep
going, rethink, not enough data); `review` turns the goals' verdicts into the pilot's overall
verdict, with one line of figures per goal beside it so the verdict can be checked by eye.

A figure that is None was withheld (too few people stand behind it) or not asked: it gives
"not enough data" and nothing else. It is never read as zero, never guessed, and never counts
for or against a verdict.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from bot.pilots.goal import GOAL_METRICS, GoalMetric
from bot.reporting.digest import GoalResult, GoalStatus, Review, Verdict

log = logging.getLogger(__name__)

# Figures arrive rounded (a share to three digits, a mean to two), so a figure that equals its
# target after float arithmetic must count as met; this tolerance is far below any rounding.
_EPSILON = 1e-9

# The goal whose verdict can decide the overall one alone: adoption is the point of a pilot.
ADOPTION_GOAL = "weekly_usage"

_VERDICT_WORDS: dict[Verdict, str] = {
    Verdict.EXPAND: "met",
    Verdict.KEEP_GOING: "close (keep going)",
    Verdict.RETHINK: "well short (rethink)",
}


def evaluate_goals(
    goals: Mapping[str, float], actuals: Mapping[str, float | None], *, default: bool = False
) -> list[GoalResult]:
    """Each goal (metric key → target, in the given order) against its actual figure.

    Status: no figure → not enough data; actual ≥ target → on track; else off track.
    Verdict: met → expand; under the target by no more than the metric's margin → keep going;
    further under → rethink; no figure → not enough data. `default` marks goals the pilot did
    not set itself (`DEFAULT_GOALS`). A goal on a metric this version does not know (a goal
    stored by a newer or older release) is left out rather than judged against a made-up
    margin.
    """
    results: list[GoalResult] = []
    for key, target in goals.items():
        metric = GOAL_METRICS.get(key)
        if metric is None:
            log.warning("goal on unknown metric %r left out of the review", key)
            continue
        actual = actuals.get(key)
        results.append(
            GoalResult(
                metric=key,
                label=metric.label,
                target=target,
                actual=actual,
                status=_status(target, actual),
                verdict=_verdict(metric, target, actual),
                unit=metric.unit,
                default=default,
            )
        )
    return results


def _status(target: float, actual: float | None) -> GoalStatus:
    if actual is None:
        return GoalStatus.NOT_ENOUGH_DATA
    return GoalStatus.ON_TRACK if actual >= target - _EPSILON else GoalStatus.OFF_TRACK


def _verdict(metric: GoalMetric, target: float, actual: float | None) -> Verdict:
    if actual is None:
        return Verdict.NOT_ENOUGH_DATA
    shortfall = target - actual
    if shortfall <= _EPSILON:
        return Verdict.EXPAND
    if shortfall <= metric.margin_for(target) + _EPSILON:
        return Verdict.KEEP_GOING
    return Verdict.RETHINK


def review(goals: Sequence[GoalResult]) -> Review:
    """The 30-day review: one verdict for the pilot, and one line of figures per goal.

    The rule (as the README states it):
    - Expand when every goal is met.
    - Rethink when weekly use is well short of its goal (adoption is the point of a pilot), or
      when at least half of the goals that have data are well short.
    - Not enough data when no goal has data; otherwise keep going.

    "Well short" is further under the target than the goal's margin (a tenth of the figure's
    range; a fifth of the target for hours). A goal without data never counts either way, so
    a pilot with some goals withheld can keep going but never expand.
    """
    known = [goal for goal in goals if goal.verdict is not Verdict.NOT_ENOUGH_DATA]
    rethink = [goal for goal in known if goal.verdict is Verdict.RETHINK]
    if not known:
        verdict = Verdict.NOT_ENOUGH_DATA
    elif len(known) == len(goals) and all(goal.verdict is Verdict.EXPAND for goal in goals):
        verdict = Verdict.EXPAND
    elif any(goal.metric == ADOPTION_GOAL for goal in rethink) or 2 * len(rethink) >= len(known):
        verdict = Verdict.RETHINK
    else:
        verdict = Verdict.KEEP_GOING
    return Review(verdict=verdict, reasons=tuple(reason(goal) for goal in goals))


def reason(goal: GoalResult) -> str:
    """One plain line with the goal's figures, e.g. "Weekly use 62% against a goal of 70%:
    close (keep going)", or "Trust in output: not enough data to judge against a goal of
    3.5" (the figure was withheld, or the question not asked)."""
    which = "the default goal" if goal.default else "a goal"
    if goal.actual is None:
        target = format_target(goal.metric, goal.target)
        return f"{goal.label}: not enough data to judge against {which} of {target}"
    actual, target = format_pair(goal.metric, goal.actual, goal.target)
    return f"{goal.label} {actual} against {which} of {target}: {_VERDICT_WORDS[goal.verdict]}"


# -- how a goal's figures are written ---------------------------------------------------------


def _decimals(metric: GoalMetric) -> int:
    """Digits that suit the metric's range: none for percentages, NPS and total hours, one for
    scales up to ten and hours per person, two for sentiment on -1..1."""
    span = (metric.high - metric.low) * (100 if metric.unit == "%" else 1)
    if span >= 50:
        return 0
    if span >= 5:
        return 1
    return 2


def format_figure(metric_key: str, value: float, decimals: int | None = None) -> str:
    """A goal metric's figure as people read it: "62%" for a share of 0.62, "3.6" for a mean,
    "12 h" for hours."""
    metric = GOAL_METRICS.get(metric_key)
    unit = metric.unit if metric is not None else ""
    if decimals is None:
        decimals = _decimals(metric) if metric is not None else 2
    shown = value * 100 if unit == "%" else value
    return _with_unit(f"{shown:.{decimals}f}", unit)


def format_pair(metric_key: str, actual: float, target: float) -> tuple[str, str]:
    """The actual figure and the target, with one more digit on the actual when the usual
    rounding would show a figure just under its target as equal to it ("69.6% against 70%",
    not "70% against 70%: close"). Targets are written as set: 70%, 3.5, 4."""
    metric = GOAL_METRICS.get(metric_key)
    base = _decimals(metric) if metric is not None else 2
    target_text = format_target(metric_key, target)
    actual_text = format_figure(metric_key, actual, base)
    if actual < target - _EPSILON and actual_text == format_figure(metric_key, target, base):
        actual_text = format_figure(metric_key, actual, base + 1)
    return actual_text, target_text


def format_target(metric_key: str, target: float) -> str:
    """A target as the pilot set it, without trailing zeros: 0.7 → "70%", 4.0 → "4"."""
    metric = GOAL_METRICS.get(metric_key)
    unit = metric.unit if metric is not None else ""
    shown = round(target * 100 if unit == "%" else target, 6)
    return _with_unit(f"{shown:g}", unit)


def _with_unit(text: str, unit: str) -> str:
    """A number written with its unit: "70%", "12 h", "3.5"."""
    if unit == "%":
        return f"{text}%"
    if unit == "h":
        return f"{text} h"
    return text
