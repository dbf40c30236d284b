"""Pulse questions: the default set made for AI-tool adoption, and versioned sets per pilot.

A question set is never edited in place: a change makes a new version, and past answers keep
pointing at the question they answered, so trends stay honest.
"""

from __future__ import annotations

import re
import threading
import tomllib
from dataclasses import dataclass
from typing import Any

import tomli_w
from sqlalchemy import func
from sqlmodel import Session, select

from bot.errors import PulseError
from storage.models import Pilot, Question, QuestionKind, QuestionSet


@dataclass(frozen=True)
class Option:
    value: float
    label: str


@dataclass(frozen=True)
class QuestionSpec:
    """One question as written by whoever designs the survey; `{tool}` names the pilot's tool."""

    key: str
    kind: str
    text: str
    options: tuple[Option, ...] = ()
    min_value: int | None = None
    max_value: int | None = None
    min_label: str | None = None
    max_label: str | None = None
    optional: bool = False


DEFAULT_QUESTIONS: tuple[QuestionSpec, ...] = (
    QuestionSpec(
        key="usage",
        kind=QuestionKind.CHOICE,
        text="How often did you use {tool} this week?",
        options=(
            Option(0, "Not at all"),
            Option(1, "Once or twice"),
            Option(2, "Several times"),
            Option(3, "Daily"),
        ),
    ),
    QuestionSpec(
        key="usefulness",
        kind=QuestionKind.SCALE,
        text="How useful was {tool} for your work this week?",
        min_value=1,
        max_value=5,
        min_label="Not useful",
        max_label="Very useful",
    ),
    QuestionSpec(
        key="time_saved",
        kind=QuestionKind.CHOICE,
        text="About how much time did {tool} save you this week?",
        # Values are minutes (the middle of each band), so the mean reads as minutes saved.
        options=(
            Option(0, "None"),
            Option(15, "Under 30 min"),
            Option(45, "30–60 min"),
            Option(90, "1–2 h"),
            Option(150, "Over 2 h"),
        ),
    ),
    QuestionSpec(
        key="trust",
        kind=QuestionKind.SCALE,
        text="I trust the output of {tool}.",
        min_value=1,
        max_value=5,
        min_label="Disagree",
        max_label="Agree",
    ),
    QuestionSpec(
        key="recommend",
        kind=QuestionKind.SCALE,
        text="How likely are you to recommend {tool} to a colleague?",
        min_value=0,
        max_value=10,
        min_label="Not at all likely",
        max_label="Extremely likely",
    ),
    QuestionSpec(
        key="comment",
        kind=QuestionKind.TEXT,
        text="What got in the way, or one win?",
        optional=True,
    ),
)


def _row(spec: QuestionSpec, question_set_id: int, position: int) -> Question:
    return Question(
        question_set_id=question_set_id,
        key=spec.key,
        position=position,
        kind=spec.kind,
        text=spec.text,
        options=[{"value": o.value, "label": o.label} for o in spec.options] or None,
        min_value=spec.min_value,
        max_value=spec.max_value,
        min_label=spec.min_label,
        max_label=spec.max_label,
        optional=spec.optional or spec.kind == QuestionKind.TEXT,
    )


def add_question_set(
    session: Session, pilot: Pilot, specs: tuple[QuestionSpec, ...]
) -> QuestionSet:
    """A new version of the pilot's questions, made current (the highest version is current)."""
    latest = session.exec(
        select(func.max(QuestionSet.version)).where(QuestionSet.pilot_id == pilot.id)
    ).one()
    question_set = QuestionSet(pilot_id=pilot.id, version=(latest or 0) + 1)
    session.add(question_set)
    session.flush()
    for position, spec in enumerate(specs):
        session.add(_row(spec, question_set.id, position))
    session.flush()
    return question_set


def install_default_questions(session: Session, pilot: Pilot) -> QuestionSet:
    """Give a new pilot the default questions as its version 1."""
    return add_question_set(session, pilot, DEFAULT_QUESTIONS)


def current_question_set(session: Session, pilot_id: int) -> QuestionSet | None:
    return session.exec(
        select(QuestionSet)
        .where(QuestionSet.pilot_id == pilot_id)
        .order_by(QuestionSet.version.desc())
        .limit(1)
    ).first()


def questions_of(session: Session, question_set_id: int) -> list[Question]:
    return list(
        session.exec(
            select(Question)
            .where(Question.question_set_id == question_set_id)
            .order_by(Question.position)
        ).all()
    )


# A question set never changes once written (editing makes a new version), so its questions
# are read once per process. The key holds the database's URL too: two databases in one process
# (the tests, the demo) can have a set with the same id and other questions.
_SET_CACHE: dict[tuple[str, int], tuple[Question, ...]] = {}
_SET_CACHE_LOCK = threading.Lock()


def cached_questions(session: Session, question_set_id: int) -> tuple[Question, ...]:
    """The questions of a set, from memory after the first read: every click after the first
    skips the query."""
    key = (session.get_bind().engine.url.render_as_string(hide_password=False), question_set_id)
    cached = _SET_CACHE.get(key)
    if cached is not None:
        return cached
    # Detached copies, so no session's state is shared between threads.
    questions = tuple(Question(**q.model_dump()) for q in questions_of(session, question_set_id))
    with _SET_CACHE_LOCK:
        if len(_SET_CACHE) > 1000:
            _SET_CACHE.clear()
        _SET_CACHE[key] = questions
    return questions


# -- export and import ----------------------------------------------------------------------

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_QUESTIONS = 12
MAX_ONE_CLICK_OPTIONS = 11  # Slack shows them as buttons in one row of the DM


class QuestionsError(PulseError):
    """A question file that cannot be used; the message lists every problem found."""


def _spec_of(question: Question) -> QuestionSpec:
    return QuestionSpec(
        key=question.key,
        kind=question.kind,
        text=question.text,
        options=tuple(Option(o["value"], o["label"]) for o in question.options or []),
        min_value=question.min_value,
        max_value=question.max_value,
        min_label=question.min_label,
        max_label=question.max_label,
        optional=question.optional,
    )


def current_specs(session: Session, pilot_id: int) -> tuple[tuple[QuestionSpec, ...], int]:
    """The pilot's current questions as specs, and their version."""
    question_set = current_question_set(session, pilot_id)
    if question_set is None:
        return (), 0
    return tuple(_spec_of(q) for q in questions_of(session, question_set.id)), question_set.version


def export_toml(specs: tuple[QuestionSpec, ...], *, pilot: str, version: int) -> str:
    """The questions as a TOML file that `import` reads back unchanged."""
    items = []
    for spec in specs:
        item: dict[str, Any] = {"key": spec.key, "kind": str(spec.kind), "text": spec.text}
        if spec.kind == QuestionKind.CHOICE:
            item["options"] = [
                {
                    "value": int(o.value) if float(o.value).is_integer() else o.value,
                    "label": o.label,
                }
                for o in spec.options
            ]
        if spec.kind == QuestionKind.SCALE:
            item["min"] = spec.min_value
            item["max"] = spec.max_value
            if spec.min_label:
                item["min_label"] = spec.min_label
            if spec.max_label:
                item["max_label"] = spec.max_label
        if spec.optional and spec.kind != QuestionKind.TEXT:
            item["optional"] = True
        items.append(item)
    header = (
        f"# pilot-pulse questions for {pilot} (version {version}).\n"
        "# Edit and load with `pilot-pulse questions import NAME FILE`: it makes a new version,\n"
        "# used from the next round on; past answers keep the questions they answered.\n"
        "# kind: choice (options with a numeric value each), scale (whole numbers min..max), or\n"
        "# text (optional free text). The first question is answered with one click in the DM,\n"
        "# so it must be a choice or a scale. {tool} stands for the pilot's tool.\n\n"
    )
    return header + tomli_w.dumps({"question": items})


def parse_toml(text: str) -> tuple[QuestionSpec, ...]:
    """Questions from TOML, checked; QuestionsError lists every problem with where it is."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise QuestionsError(f"not valid TOML: {exc}") from None
    unknown_top = set(data) - {"question"}
    items = data.get("question")
    problems: list[str] = [f"unknown section {name!r}" for name in sorted(unknown_top)]
    if not isinstance(items, list) or not items:
        raise QuestionsError("; ".join([*problems, "no [[question]] entries"]))
    if len(items) > MAX_QUESTIONS:
        problems.append(
            f"{len(items)} questions; at most {MAX_QUESTIONS} keep the pulse to a minute"
        )
    specs: list[QuestionSpec] = []
    seen: set[str] = set()
    for number, item in enumerate(items, start=1):
        where = f"question {number}"
        if not isinstance(item, dict):
            problems.append(f"{where}: expected a table")
            continue
        key = item.get("key")
        if isinstance(key, str):
            where = f"question {number} ({key})"
        before = len(problems)
        problems.extend(f"{where}: {p}" for p in _check(item, number, seen))
        if len(problems) == before:
            specs.append(_spec_from(item))
    if problems:
        raise QuestionsError("; ".join(problems))
    return tuple(specs)


_ALLOWED = {
    QuestionKind.CHOICE: {"key", "kind", "text", "options", "optional"},
    QuestionKind.SCALE: {"key", "kind", "text", "min", "max", "min_label", "max_label", "optional"},
    QuestionKind.TEXT: {"key", "kind", "text", "optional"},
}


def _check(item: dict[str, Any], number: int, seen: set[str]) -> list[str]:
    problems: list[str] = []
    key = item.get("key")
    if not isinstance(key, str) or not _KEY.match(key):
        problems.append("key must be lower_snake_case, 1-40 characters, starting with a letter")
    elif key in seen:
        problems.append(f"key {key!r} is used twice")
    else:
        seen.add(key)
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append("text is missing")
    elif len(text) > 150:
        problems.append("text is longer than 150 characters")
    kind = item.get("kind")
    if kind not in _ALLOWED:
        problems.append("kind must be choice, scale or text")
        return problems
    for name in sorted(set(item) - _ALLOWED[kind]):
        problems.append(f"{name!r} does not belong to a {kind} question")
    if number == 1 and kind == QuestionKind.TEXT:
        problems.append(
            "the first question is answered with one click, so it must be a choice or a scale"
        )
    if number == 1 and item.get("optional"):
        problems.append("the first question cannot be optional")
    if "optional" in item and not isinstance(item["optional"], bool):
        problems.append("optional must be true or false")
    if kind == QuestionKind.CHOICE:
        options = item.get("options")
        if not isinstance(options, list) or not 2 <= len(options) <= MAX_ONE_CLICK_OPTIONS:
            problems.append(f"options must list 2 to {MAX_ONE_CLICK_OPTIONS} choices")
        else:
            values = []
            for index, option in enumerate(options, start=1):
                if not isinstance(option, dict) or set(option) != {"value", "label"}:
                    problems.append(f"option {index} needs exactly a value and a label")
                    continue
                if isinstance(option["value"], bool) or not isinstance(
                    option["value"], int | float
                ):
                    problems.append(f"option {index}: value must be a number")
                if not isinstance(option["label"], str) or not 0 < len(option["label"]) <= 75:
                    problems.append(f"option {index}: label must be 1-75 characters")
                values.append(option["value"])
            if len(set(map(str, values))) != len(values):
                problems.append("option values must differ")
    if kind == QuestionKind.SCALE:
        low, high = item.get("min"), item.get("max")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)):
            problems.append("min and max must be whole numbers")
        elif not low < high:
            problems.append("max must be greater than min")
        elif high - low + 1 > MAX_ONE_CLICK_OPTIONS:
            problems.append(f"a scale offers at most {MAX_ONE_CLICK_OPTIONS} points")
        for name in ("min_label", "max_label"):
            if name in item and (not isinstance(item[name], str) or len(item[name]) > 60):
                problems.append(f"{name} must be text of at most 60 characters")
    return problems


def _spec_from(item: dict[str, Any]) -> QuestionSpec:
    kind = QuestionKind(item["kind"])
    return QuestionSpec(
        key=item["key"],
        kind=kind,
        text=item["text"].strip(),
        options=tuple(Option(float(o["value"]), o["label"]) for o in item.get("options", [])),
        min_value=item.get("min"),
        max_value=item.get("max"),
        min_label=item.get("min_label"),
        max_label=item.get("max_label"),
        optional=bool(item.get("optional", kind == QuestionKind.TEXT)),
    )


def _same(a: tuple[QuestionSpec, ...], b: tuple[QuestionSpec, ...]) -> bool:
    def norm(specs: tuple[QuestionSpec, ...]) -> list[tuple]:
        return [
            (
                s.key,
                str(s.kind),
                s.text,
                tuple((float(o.value), o.label) for o in s.options),
                s.min_value,
                s.max_value,
                s.min_label,
                s.max_label,
                bool(s.optional or s.kind == QuestionKind.TEXT),
            )
            for s in specs
        ]

    return norm(a) == norm(b)


def import_questions(
    session: Session, pilot: Pilot, specs: tuple[QuestionSpec, ...]
) -> tuple[int, bool]:
    """Make `specs` the pilot's questions: (version, True) for a new version, (version, False)
    when they are the current ones already."""
    current, version = current_specs(session, pilot.id)
    if current and _same(current, specs):
        return version, False
    return add_question_set(session, pilot, specs).version, True
