"""Block Kit for the pulse survey: the DM with its one-click first question, the modal with the
rest, and the thank-you state. Pure functions, data in, blocks out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.pilots.period import day_label
from bot.views.blocks import Blocks, button, context_block, privacy_line, text_block
from bot.views.preferences import controls, subject_value

if TYPE_CHECKING:
    from storage.models import Question

# The kinds of question, as `storage.models.QuestionKind` stores them: views compare the plain
# values so that they import nothing of storage (a test keeps the two in step).
CHOICE, SCALE, TEXT = "choice", "scale", "text"

MODAL_CALLBACK = "pulse_modal"
ANSWER_ACTION = "pulse_answer_{index}"
ANSWER_ACTION_PATTERN = r"^pulse_answer_\d+$"
CONTINUE_ACTION = "pulse_continue"
CHANGE_ACTION = "pulse_change"
# Input blocks carry the question id, so an answer always names the question it answers.
_BLOCK_PREFIX = "q_"
_ELEMENT = "answer"


@dataclass(frozen=True)
class SurveyContext:
    """What every pulse message of one delivery shows."""

    delivery_id: int
    tool: str
    min_group_size: int
    closes_at: datetime
    questions: tuple[Question, ...]
    local_zone: Any = None

    @property
    def first(self) -> Question:
        return self.questions[0]

    def close_date(self) -> str:
        return day_label(
            self.closes_at.astimezone(self.local_zone) if self.local_zone else self.closes_at
        )


def question_text(question: Question, tool: str) -> str:
    return question.text.replace("{tool}", tool)


def choices(question: Question) -> list[tuple[str, float]]:
    """(label, value) of each one-click answer, in display order."""
    if question.kind == CHOICE:
        return [(str(o["label"]), float(o["value"])) for o in question.options or []]
    if question.kind == SCALE and question.min_value is not None and question.max_value is not None:
        return [(str(v), float(v)) for v in range(question.min_value, question.max_value + 1)]
    return []


def label_of(question: Question, value: float | None) -> str | None:
    for label, option in choices(question):
        if value is not None and option == value:
            return label
    return None


def answer_value(delivery_id: int, question_id: int, value: float) -> str:
    return f"{delivery_id}:{question_id}:{value:g}"


def parse_answer_value(value: str) -> tuple[int, int, float]:
    """(delivery id, question id, value) from a button's value; ValueError when malformed."""
    delivery, question, number = value.split(":")
    return int(delivery), int(question), float(number)


def _scale_hint(question: Question) -> str | None:
    if question.kind == SCALE and (question.min_label or question.max_label):
        return f"{question.min_value} = {question.min_label or ''} · {question.max_value} = {question.max_label or ''}"
    return None


def _answer_buttons(context: SurveyContext) -> dict[str, Any]:
    first = context.first
    return {
        "type": "actions",
        "block_id": "pulse_first",
        "elements": [
            button(
                label,
                ANSWER_ACTION.format(index=index),
                answer_value(context.delivery_id, first.id, value),
            )
            for index, (label, value) in enumerate(choices(first))
        ],
    }


def _controls(context: SurveyContext) -> dict[str, Any]:
    return controls(subject_value(delivery_id=context.delivery_id))


def _footer(context: SurveyContext) -> dict[str, Any]:
    return context_block(
        f"{privacy_line(context.min_group_size)} You can change your answers until {context.close_date()}."
    )


def invite_blocks(
    context: SurveyContext, first_name: str | None, *, reminder: bool = False
) -> Blocks:
    """The pulse DM: greeting, the first question answered with one click, who sees what."""
    first = context.first
    hello = f"Hi {first_name}! " if first_name else "Hi! "
    if reminder:
        opening = (
            f"{hello}A friendly nudge: this week's pulse on *{context.tool}* is open until "
            f"{context.close_date()}. It takes a minute, and helps your team decide what to keep."
        )
    else:
        opening = f"{hello}Here is this week's one-minute pulse on *{context.tool}*."
    blocks: Blocks = [text_block(opening), text_block(f"*{question_text(first, context.tool)}*")]
    blocks.append(_answer_buttons(context))
    hint = _scale_hint(first)
    if hint:
        blocks.append(context_block(hint))
    blocks += [_footer(context), _controls(context)]
    return blocks


def invite_text(context: SurveyContext) -> str:
    return f"This week's one-minute pulse on {context.tool}: {question_text(context.first, context.tool)}"


def progress_blocks(context: SurveyContext, chosen: str) -> Blocks:
    """The DM after the first click: the answer is in, the rest is one button away."""
    remaining = len(context.questions) - 1
    blocks: Blocks = [
        text_block(
            f"Got it: *{chosen}* for _{question_text(context.first, context.tool)}_\n"
            f"{remaining} more quick questions, all optional."
        ),
        {
            "type": "actions",
            "block_id": "pulse_progress",
            "elements": [
                button(
                    "Answer the rest", CONTINUE_ACTION, str(context.delivery_id), style="primary"
                ),
                button("Change answers", CHANGE_ACTION, str(context.delivery_id)),
            ],
        },
        _footer(context),
        _controls(context),
    ]
    return blocks


def thanks_blocks(context: SurveyContext) -> Blocks:
    """The DM once the modal has been sent."""
    return [
        text_block(f"Thanks, your answers on *{context.tool}* are in."),
        {
            "type": "actions",
            "block_id": "pulse_done",
            "elements": [button("Change my answers", CHANGE_ACTION, str(context.delivery_id))],
        },
        _footer(context),
    ]


def closed_text(context: SurveyContext) -> str:
    return (
        f"This pulse closed on {context.close_date()}, so answers can no longer change. "
        "Thank you all the same; the next one comes next week."
    )


def _option(label: str, value: float) -> dict[str, Any]:
    return {
        "text": {"type": "plain_text", "text": label[:75], "emoji": True},
        "value": f"{value:g}",
    }


def _input(
    question: Question, tool: str, answer: tuple[float | None, str | None] | None
) -> dict[str, Any]:
    number, words = answer if answer else (None, None)
    element: dict[str, Any]
    if question.kind == TEXT:
        element = {
            "type": "plain_text_input",
            "action_id": _ELEMENT,
            "multiline": True,
            "max_length": 1000,
        }
        if words:
            element["initial_value"] = words
    else:
        options = choices(question)
        labelled = [
            (
                f"{label} · {question.min_label}"
                if question.kind == SCALE and value == question.min_value and question.min_label
                else f"{label} · {question.max_label}"
                if question.kind == SCALE and value == question.max_value and question.max_label
                else label,
                value,
            )
            for label, value in options
        ]
        kind = "radio_buttons" if len(options) <= 5 else "static_select"
        element = {
            "type": kind,
            "action_id": _ELEMENT,
            "options": [_option(label, value) for label, value in labelled],
        }
        if kind == "static_select":
            element["placeholder"] = {"type": "plain_text", "text": "Choose"}
        for label, value in labelled:
            if number is not None and value == number:
                element["initial_option"] = _option(label, value)
    return {
        "type": "input",
        "block_id": f"{_BLOCK_PREFIX}{question.id}",
        "optional": True,
        "label": {
            "type": "plain_text",
            "text": question_text(question, tool)[:2000],
            "emoji": True,
        },
        "element": element,
    }


def survey_modal(
    context: SurveyContext,
    answers: dict[int, tuple[float | None, str | None]],
    *,
    include_first: bool,
) -> dict[str, Any]:
    """The modal with the questions (all, or all but the first), prefilled with past answers."""
    questions = context.questions if include_first else context.questions[1:]
    blocks: Blocks = [context_block(privacy_line(context.min_group_size))]
    blocks += [_input(q, context.tool, answers.get(q.id)) for q in questions]
    return {
        "type": "modal",
        "callback_id": MODAL_CALLBACK,
        "private_metadata": json.dumps({"delivery_id": context.delivery_id}),
        "title": {"type": "plain_text", "text": "Weekly pulse"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Later"},
        "blocks": blocks,
    }


def modal_delivery_id(view: dict[str, Any]) -> int:
    """The delivery a submitted modal belongs to; ValueError when the metadata is not ours."""
    return int(json.loads(view.get("private_metadata") or "{}")["delivery_id"])


def submitted_answers(view: dict[str, Any]) -> dict[int, float | str | None]:
    """question id → the value chosen or typed (None when left empty), from a submitted modal."""
    result: dict[int, float | str | None] = {}
    for block_id, elements in ((view.get("state") or {}).get("values") or {}).items():
        if not block_id.startswith(_BLOCK_PREFIX) or _ELEMENT not in elements:
            continue
        question_id = int(block_id[len(_BLOCK_PREFIX) :])
        element = elements[_ELEMENT]
        if element.get("type") == "plain_text_input":
            result[question_id] = element.get("value")
        else:
            selected = element.get("selected_option")
            result[question_id] = float(selected["value"]) if selected else None
    return result
