"""The digest's "what to do next": a short summary and two or three suggested actions.

Two ways to write it, one result (`NextSteps`):

- **Rules** (`rule_steps`, always available, and the fallback): the summary is put together from
  the figures the digest shows, and the actions are picked by the rules in `actions.toml` next
  to this module (one line per friction theme, plus rules on participation, falling use, goals
  off track and the top win).
- **A model** (`next_steps` with a `ModelClient`, when the week has at least `MIN_COMMENTS`
  comments and enough answers): the prompt `prompts/digest.txt` and the digest's figures and
  themes as JSON data. The answer is validated by its schema, then checked for links, mentions,
  placeholders and numbers that are not in the data; anything wrong falls back to the rules,
  with a note saying why, as the analyzers do.

The minimum-group rule holds here as everywhere: a figure that is None was withheld and is
never used by a rule, never put in the summary, and is sent to the model as "withheld", never
as a number. Themes raised by fewer people than the minimum group are left out too.
"""

from __future__ import annotations

import json
import logging
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

import prompts
from bot.analysis.model import ModelCallError, ModelClient, as_data
from bot.pilots.goal import GOAL_METRICS
from bot.reporting.digest import (
    DigestContent,
    GoalResult,
    GoalStatus,
    NextSteps,
    Score,
    ThemeVoice,
)
from bot.reporting.review import format_figure, format_pair, format_target

log = logging.getLogger(__name__)

# Below this many comments in the period there is too little for a model to add to the rules.
MIN_COMMENTS = 5

_RULES_FILE = "actions.toml"


# -- the model's answer ------------------------------------------------------------------------
# No docstring on the output model: pydantic would send it to the model as the schema's
# description, and the instructions belong in `prompts/digest.txt`. No field defaults: strict
# mode refuses them.

_Action = Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=200)]


class DigestOutput(BaseModel):
    model_config = ConfigDict(extra="forbid", title="digest_next_steps")

    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=400)]
    actions: list[_Action] = Field(min_length=2, max_length=3)


# The SDK names the schema after the class (`json_schema.name`).
DigestOutput.__name__ = "digest_next_steps"


def _unchanged(text: str) -> str:
    return text


def next_steps(
    content: DigestContent,
    *,
    llm: ModelClient | None,
    comments: int,
    scrub: Callable[[str], str] = _unchanged,
) -> NextSteps:
    """What to do next: from `llm` when one is given, the period has at least `MIN_COMMENTS`
    comments and enough people answered; otherwise, or when the model's answer is not usable,
    from the rules (`rule_steps`), with `note` saying why the model's answer was not used.

    `scrub` is the privacy scrubber (with the workspace's names); the quotes sent and the
    model's answer both go through it.
    """
    rules_steps = rule_steps(content)
    if llm is None or comments < MIN_COMMENTS or not content.enough:
        return rules_steps
    prompt = prompts.load("digest")
    data = digest_data(content, scrub)
    try:
        output = llm.structured(prompt, data, DigestOutput)
    except ModelCallError as exc:
        log.warning("model next steps failed (%s); using the rules", exc.kind)
        return replace(rules_steps, note=f"{llm.name} failed: {exc.reason}")
    summary = " ".join(output.summary.split())
    actions = [" ".join(action.split()) for action in output.actions]
    cleaned = [scrub(text) for text in (summary, *actions)]
    problem = output_problem([summary, *actions], data)
    # The checks found no placeholder in the model's words, so one after scrubbing means the
    # scrubber took a name or a contact out of them: an answer about a person is not used.
    if problem is None and any(_PLACEHOLDER.search(text) for text in cleaned):
        problem = "output named a person"
    if problem is not None:
        log.warning("model next steps rejected (%s); using the rules", problem)
        return replace(rules_steps, note=f"{llm.name} failed: {problem}")
    return NextSteps(
        summary=cleaned[0],
        actions=tuple(cleaned[1:]),
        source=llm.name,
        prompt_version=prompt.ref,
    )


_LINK = re.compile(r"https?:|www\.", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\[[^\]\s]{1,20}\]")
# A number stated as a figure about people: "62%", "5 pts", "7 people", "3.6/5".
_FIGURE = re.compile(
    r"(?<![\w.])([+-]?\d+(?:\.\d+)?)\s*(?:%|pts?\b|points?\b|people\b|persons?\b|/)",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def output_problem(texts: Iterable[str], data: str) -> str | None:
    """Why the model's summary and actions cannot be used (checks its schema cannot carry), or
    None. A figure about people in the answer must be one of the numbers in the data: the model
    may quote the figures, never invent one (nor put a number on a withheld figure)."""
    known = {float(number) for number in _NUMBER.findall(data)}
    for text in texts:
        if _LINK.search(text):
            return "output had a link"
        if "@" in text or "<" in text or ">" in text:
            return "output had a mention or markup"
        if _PLACEHOLDER.search(text):
            return "output had a placeholder"
        for number in _FIGURE.findall(text):
            if abs(float(number)) not in known:
                return f"output had a figure not in the data ({number})"
    return None


# -- the data the model is given ---------------------------------------------------------------

WITHHELD = "withheld"


def digest_data(content: DigestContent, scrub: Callable[[str], str] = _unchanged) -> str:
    """The user message for the model: the figures, goals, frictions and wins the digest shows,
    as JSON between `<digest_data>` tags. Figures are written as the digest writes them ("62%",
    "+5 pts", "3.6 on 1-5"); a withheld one is "withheld", never a number, and nothing else
    about it (not even last period's value) is sent. Quotes are scrubbed again and, like every
    text, cannot close the tags. No pilot name, no person, no period label."""
    minimum = content.min_group_size
    part = content.participation
    data: dict[str, Any] = {
        "tool": as_data(content.tool),
        "workflow": as_data(content.workflow) if content.workflow else None,
        "day_of_pilot": content.day,
        "minimum_group": minimum,
        "participation": _drop_none(
            {
                "invited": part.invited,
                "answered": WITHHELD if part.responded is None else part.responded,
                "response_rate": _or_withheld(part.response_rate, _pct),
                "response_rate_change": _change_pts(part.response_rate_change),
            }
        ),
        "weekly_use": _drop_none(
            {
                "share_who_used_it_weekly": _or_withheld(content.weekly_usage.value, _pct),
                "change": _change_pts(content.weekly_usage.change),
            }
        ),
        "scores": [_score(score) for score in content.scores],
    }
    if content.nps is not None:
        data["recommend_score_nps"] = _drop_none(
            {
                "score": _or_withheld(content.nps.score, lambda v: f"{v:.0f} on -100..100"),
                "change": _signed(content.nps.change, 0),
            }
        )
    if content.time_saved is not None:
        saved = content.time_saved
        data["time_saved"] = {
            "hours_a_week_in_total": _or_withheld(saved.hours_total, lambda v: f"{v:.0f} h"),
            "hours_a_week_per_person": _or_withheld(saved.hours_per_person, lambda v: f"{v:.1f} h"),
        }
    data["sentiment"] = _drop_none(
        {
            "mean": _or_withheld(content.sentiment.mean, lambda v: f"{v:.2f} on -1..1"),
            "change": _signed(content.sentiment.change, 2),
        }
    )
    data["goals"] = [_drop_none(_goal(goal, content.review_due)) for goal in content.goals]
    if content.review is not None and content.review_due:
        data["review_30_day_verdict"] = _words(content.review.verdict)
    data["frictions"] = [_voice(voice, scrub) for voice in _shown(content.frictions, minimum)]
    data["wins"] = [_voice(voice, scrub) for voice in _shown(content.wins, minimum)]
    data["themes_raised_by_too_few_to_show"] = content.themes_withheld
    body = json.dumps(_drop_none(data), ensure_ascii=False, indent=1)
    return f"<digest_data>\n{body}\n</digest_data>"


def _score(score: Score) -> dict[str, Any]:
    scale = (
        f" on {score.low:g}-{score.high:g}"
        if score.low is not None and score.high is not None
        else ""
    )
    return _drop_none(
        {
            "name": as_data(score.label),
            "mean": _or_withheld(score.mean, lambda v: f"{v:.1f}{scale}"),
            "change": _signed(score.change, 1),
        }
    )


def _goal(goal: GoalResult, review_due: bool) -> dict[str, Any]:
    target = format_target(goal.metric, goal.target)
    actual: str = WITHHELD
    if goal.actual is not None:
        actual, target = format_pair(goal.metric, goal.actual, goal.target)
    return {
        "goal": as_data(goal.label),
        "target": target,
        "actual": actual,
        "status": _words(goal.status),
        "verdict": _words(goal.verdict) if review_due else None,
    }


def _voice(voice: ThemeVoice, scrub: Callable[[str], str]) -> dict[str, Any]:
    return {
        "theme": as_data(voice.label),
        "people": voice.people,
        "quotes": [as_data(scrub(quote)) for quote in voice.quotes],
    }


def _or_withheld(value: float | None, show: Callable[[float], str]) -> str:
    return WITHHELD if value is None else show(value)


def _drop_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def _words(value: str) -> str:
    return str(value).replace("_", " ")


# -- how figures are written -------------------------------------------------------------------


def _pct(share: float) -> str:
    return f"{share * 100:.0f}%"


def _pts(change: float) -> int:
    return round(change * 100)


def _change_pts(change: float | None) -> str | None:
    return None if change is None else f"{_pts(change):+d} pts"


def _signed(change: float | None, digits: int) -> str | None:
    return None if change is None else f"{change:+.{digits}f}"


# -- the rules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rules:
    """`actions.toml`, read: the limits and the action lines."""

    limits: dict[str, float]
    frictions: dict[str, str]
    participation: dict[str, str]
    goals: dict[str, str]
    wins: dict[str, str]
    too_few: tuple[str, ...]
    fallback: tuple[str, ...]


# Read once per process: the file ships inside the package and never changes while it runs.
@cache
def rules() -> Rules:
    raw = resources.files(__package__).joinpath(_RULES_FILE).read_text(encoding="utf-8")
    data = tomllib.loads(raw)
    return Rules(
        limits=dict(data["limits"]),
        frictions=dict(data["frictions"]),
        participation=dict(data["participation"]),
        goals=dict(data["goals"]),
        wins=dict(data["wins"]),
        too_few=tuple(data["too_few"]["actions"]),
        fallback=tuple(data["fallback"]["actions"]),
    )


def rule_steps(content: DigestContent) -> NextSteps:
    """The summary and actions from the figures the digest shows, by the rules in
    `actions.toml`: frictions (most people first), then participation, then goals off track,
    then the top win; two or three actions. When too few people answered, the summary says so
    (with no figure) and the actions are about participation only."""
    table = rules()
    tool = content.tool
    if not content.enough:
        summary = (
            "Too few people answered this period for any figure to be shown: totals are shared "
            "only when enough people stand behind them."
        )
        actions = [
            line.format_map({"tool": tool, "min_group": content.min_group_size})
            for line in table.too_few
        ]
        return NextSteps(
            summary=summary, actions=tuple(actions[: int(table.limits["max_actions"])])
        )
    return NextSteps(summary=_summary(content), actions=tuple(_actions(content, table)))


def _summary(content: DigestContent) -> str:
    sentences: list[str] = []
    part = content.participation
    if part.responded is not None:
        rate = f" ({_pct(part.response_rate)})" if part.response_rate is not None else ""
        sentences.append(f"{part.responded} of {part.invited} answered{rate}.")

    figures: list[str] = []
    usage = content.weekly_usage
    if usage.value is not None:
        trend = ""
        if usage.change is not None:
            points = _pts(usage.change)
            if points == 0:
                trend = ", unchanged"
            else:
                trend = f", {'up' if points > 0 else 'down'} {abs(points)} pts"
        figures.append(f"{_pct(usage.value)} used {content.tool} weekly{trend}")
    usefulness = next((s for s in content.scores if s.key == "usefulness"), None)
    if usefulness is not None and usefulness.mean is not None:
        scale = f"/{usefulness.high:g}" if usefulness.high is not None else ""
        figures.append(f"usefulness {usefulness.mean:.1f}{scale}")
    saved = content.time_saved
    if saved is not None and saved.hours_per_person is not None:
        figures.append(f"about {saved.hours_per_person:.1f} h saved per person a week")
    if figures:
        line = "; ".join(figures)
        sentences.append(f"{line[0].upper()}{line[1:]}.")

    themes: list[str] = []
    friction = _top(content.frictions, content.min_group_size)
    if friction is not None:
        themes.append(f"biggest friction: {friction.label} ({friction.people} people)")
    win = _top(content.wins, content.min_group_size)
    if win is not None:
        themes.append(f"biggest win: {win.label} ({win.people} people)")
    if themes:
        line = "; ".join(themes)
        sentences.append(f"{line[0].upper()}{line[1:]}.")

    if not sentences:
        return "This period's figures are withheld: too few people answered each question."
    return " ".join(sentences)


def _actions(content: DigestContent, table: Rules) -> list[str]:
    limits = table.limits
    tool = content.tool
    # (topic, text): a topic already covered (e.g. the response rate by the participation
    # rule) is not suggested twice through its goal.
    found: list[tuple[str, str]] = []

    frictions = _shown(content.frictions, content.min_group_size)
    for voice in frictions[: int(limits["max_frictions"])]:
        line = table.frictions.get(voice.theme, table.frictions["other"])
        found.append((f"friction:{voice.theme}", _fill(line, tool, people=voice.people)))

    rate = content.participation.response_rate
    if rate is not None and rate < limits["low_response_rate"]:
        line = table.participation["low_response"]
        found.append(("response_rate", _fill(line, tool, rate=_pct(rate))))
    usage = content.weekly_usage
    if (
        usage.value is not None
        and usage.change is not None
        and usage.change <= -limits["usage_drop"] + 1e-9
    ):
        line = table.participation["usage_falling"]
        found.append(
            ("weekly_usage", _fill(line, tool, drop=-_pts(usage.change), usage=_pct(usage.value)))
        )

    covered = {topic for topic, _ in found}
    off_track = sorted(
        (
            goal
            for goal in content.goals
            if goal.status is GoalStatus.OFF_TRACK
            and goal.actual is not None
            and goal.metric not in covered
        ),
        key=_how_far_off,
        reverse=True,
    )
    for goal in off_track[: int(limits["max_goals"])]:
        found.append((goal.metric, _goal_line(goal, table, tool)))

    wins = _shown(content.wins, content.min_group_size)
    for voice in wins[: int(limits["max_wins"])]:
        line = table.wins.get(voice.theme, table.wins["default"])
        found.append(
            (f"win:{voice.theme}", _fill(line, tool, people=voice.people, label=voice.label))
        )

    actions = [text for _, text in found][: int(limits["max_actions"])]
    for line in table.fallback:
        if len(actions) >= limits["min_actions"]:
            break
        actions.append(_fill(line, tool))
    return actions


def _goal_line(goal: GoalResult, table: Rules, tool: str) -> str:
    assert goal.actual is not None  # off track: only goals with a figure
    actual, target = format_pair(goal.metric, goal.actual, goal.target)
    gap = goal.target - goal.actual
    if goal.unit == "%":
        gap_text = f"{gap * 100:.0f} pts" if gap >= 0.01 else f"{gap * 100:.1f} pts"
    else:
        gap_text = format_figure(goal.metric, gap)
    line = table.goals.get(goal.metric, table.goals["default"])
    return _fill(line, tool, goal=goal.label.lower(), actual=actual, target=target, gap=gap_text)


def _how_far_off(goal: GoalResult) -> float:
    """The shortfall in units of the goal's margin, so goals on different scales compare."""
    assert goal.actual is not None
    metric = GOAL_METRICS.get(goal.metric)
    margin = metric.margin_for(goal.target) if metric is not None else 0.0
    return (goal.target - goal.actual) / margin if margin > 0 else float("inf")


def _shown(voices: list[ThemeVoice], minimum: int) -> list[ThemeVoice]:
    """The themes that may be shown (raised by at least the minimum group), most people first;
    ties keep the digest's order."""
    return sorted((v for v in voices if v.people >= minimum), key=lambda v: -v.people)


def _top(voices: list[ThemeVoice], minimum: int) -> ThemeVoice | None:
    shown = _shown(voices, minimum)
    return shown[0] if shown else None


def _fill(line: str, tool: str, **values: object) -> str:
    return line.format_map({"tool": tool, **values})
