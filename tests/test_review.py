"""Success goals and the 30-day review: each goal's status and verdict, the overall rule, and the
figures written beside it. A withheld figure (None) gives "not enough data", never a verdict."""

from __future__ import annotations

import pytest

from bot.pilots.goal import DEFAULT_GOALS, GOAL_METRICS
from bot.reporting.digest import GoalResult, GoalStatus, Verdict
from bot.reporting.review import evaluate_goals, reason, review


def one(key: str, target: float, actual: float | None, **kwargs: bool) -> GoalResult:
    [goal] = evaluate_goals({key: target}, {key: actual}, **kwargs)
    return goal


# -- status and verdict, per goal -------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "target", "actual", "status", "verdict"),
    [
        ("weekly_usage", 0.7, 0.75, GoalStatus.ON_TRACK, Verdict.EXPAND),
        ("weekly_usage", 0.7, 0.7, GoalStatus.ON_TRACK, Verdict.EXPAND),  # met exactly
        ("weekly_usage", 0.7, 0.62, GoalStatus.OFF_TRACK, Verdict.KEEP_GOING),
        ("weekly_usage", 0.7, 0.6, GoalStatus.OFF_TRACK, Verdict.KEEP_GOING),  # at the margin
        ("weekly_usage", 0.7, 0.59, GoalStatus.OFF_TRACK, Verdict.RETHINK),
        ("weekly_usage", 0.7, None, GoalStatus.NOT_ENOUGH_DATA, Verdict.NOT_ENOUGH_DATA),
        ("usefulness", 4.0, 4.1, GoalStatus.ON_TRACK, Verdict.EXPAND),
        ("usefulness", 4.0, 3.6, GoalStatus.OFF_TRACK, Verdict.KEEP_GOING),
        ("usefulness", 4.0, 3.5, GoalStatus.OFF_TRACK, Verdict.RETHINK),
        # Hours have no top: the margin is a fifth of the target (4 h of 20 h).
        ("hours_saved", 20, 16, GoalStatus.OFF_TRACK, Verdict.KEEP_GOING),
        ("hours_saved", 20, 15, GoalStatus.OFF_TRACK, Verdict.RETHINK),
        ("nps", -10, -25, GoalStatus.OFF_TRACK, Verdict.KEEP_GOING),
        ("sentiment", 0.2, 0.05, GoalStatus.OFF_TRACK, Verdict.KEEP_GOING),
        ("sentiment", 0.2, -0.1, GoalStatus.OFF_TRACK, Verdict.RETHINK),
    ],
)
def test_each_goal_gets_a_status_and_a_verdict(
    key: str, target: float, actual: float | None, status: GoalStatus, verdict: Verdict
) -> None:
    goal = one(key, target, actual)
    assert (goal.status, goal.verdict) == (status, verdict)
    assert (goal.metric, goal.target, goal.actual) == (key, target, actual)
    assert goal.label == GOAL_METRICS[key].label and goal.unit == GOAL_METRICS[key].unit


def test_goals_keep_their_order_and_a_missing_figure_is_not_enough_data() -> None:
    goals = evaluate_goals({"usefulness": 4, "weekly_usage": 0.7}, {"usefulness": 4.2})
    assert [goal.metric for goal in goals] == ["usefulness", "weekly_usage"]
    assert goals[1].actual is None and goals[1].verdict is Verdict.NOT_ENOUGH_DATA


def test_default_goals_are_marked_and_said_to_be_defaults() -> None:
    goals = evaluate_goals(DEFAULT_GOALS, {"weekly_usage": 0.65}, default=True)
    assert [goal.metric for goal in goals] == list(DEFAULT_GOALS)
    assert all(goal.default for goal in goals)
    assert reason(goals[0]) == "Weekly use 65% against the default goal of 60%: met"


def test_a_goal_on_an_unknown_metric_is_left_out_rather_than_judged() -> None:
    goals = evaluate_goals({"vibes": 3, "usefulness": 4}, {"vibes": 1, "usefulness": 4})
    assert [goal.metric for goal in goals] == ["usefulness"]


# -- the overall verdict ----------------------------------------------------------------------


def goals_of(**actuals: float | None) -> list[GoalResult]:
    targets = {"weekly_usage": 0.7, "usefulness": 4.0, "response_rate": 0.6, "trust": 3.5}
    return evaluate_goals({key: targets[key] for key in actuals}, actuals)


@pytest.mark.parametrize(
    ("actuals", "verdict"),
    [
        # Every goal met.
        ({"weekly_usage": 0.8, "usefulness": 4.2, "response_rate": 0.7}, Verdict.EXPAND),
        # Weekly use well short decides alone, even with every other goal met.
        ({"weekly_usage": 0.5, "usefulness": 4.5, "response_rate": 0.9}, Verdict.RETHINK),
        # Half of the goals with data well short (weekly use without data does not count).
        ({"weekly_usage": None, "usefulness": 3.0, "response_rate": 0.7}, Verdict.RETHINK),
        (
            {"usefulness": 3.0, "response_rate": 0.3, "trust": 4, "weekly_usage": 0.7},
            Verdict.RETHINK,
        ),
        # One in three well short, weekly use fine: keep going.
        ({"weekly_usage": 0.7, "usefulness": 3.0, "response_rate": 0.7}, Verdict.KEEP_GOING),
        # Close on some, met on the rest.
        ({"weekly_usage": 0.65, "usefulness": 4.2, "response_rate": 0.7}, Verdict.KEEP_GOING),
        # Met where there is data, but a goal has none: never expand on a withheld figure.
        ({"weekly_usage": 0.8, "usefulness": None, "response_rate": 0.7}, Verdict.KEEP_GOING),
        # No goal has data.
        ({"weekly_usage": None, "usefulness": None}, Verdict.NOT_ENOUGH_DATA),
    ],
)
def test_the_overall_verdict_follows_the_rule(
    actuals: dict[str, float | None], verdict: Verdict
) -> None:
    assert review(goals_of(**actuals)).verdict is verdict


def test_no_goals_at_all_is_not_enough_data() -> None:
    assert review([]).verdict is Verdict.NOT_ENOUGH_DATA


def test_the_rule_is_written_where_the_readme_can_quote_it() -> None:
    doc = review.__doc__ or ""
    for words in ("Expand when every goal is met", "Rethink when weekly use", "Not enough data"):
        assert words in doc


# -- the reasons beside the verdict -----------------------------------------------------------


def test_every_goal_has_a_line_with_its_figures() -> None:
    result = review(
        evaluate_goals(
            {"weekly_usage": 0.7, "usefulness": 4, "hours_saved": 20, "trust": 3.5},
            {"weekly_usage": 0.62, "usefulness": 4.1, "hours_saved": 12, "trust": None},
        )
    )
    assert result.reasons == (
        "Weekly use 62% against a goal of 70%: close (keep going)",
        "Usefulness 4.1 against a goal of 4: met",
        "Hours saved a week 12 h against a goal of 20 h: well short (rethink)",
        "Trust in output: not enough data to judge against a goal of 3.5",
    )


def test_a_figure_just_under_its_target_is_not_shown_as_equal_to_it() -> None:
    goal = one("weekly_usage", 0.7, 0.696)
    assert reason(goal) == "Weekly use 69.6% against a goal of 70%: close (keep going)"
    assert reason(one("hours_per_person", 1.5, 1.4)) == (
        "Hours saved per person 1.4 h against a goal of 1.5 h: close (keep going)"
    )


def test_a_withheld_figure_is_never_written_as_a_number() -> None:
    line = reason(one("usefulness", 4.0, None))
    assert "not enough data" in line
    digits = [ch for ch in line if ch.isdigit()]
    assert digits == ["4"]  # the target, and nothing else
