"""The pulse DM's buttons and modal: answer the first question, answer the rest, change answers.

Every answer is stored before Slack is acknowledged, so an acknowledged click is never lost;
the modal and the message update follow the ack. Pause, stop and resume are in `preferences`.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy.exc import SQLAlchemyError

from bot.analysis.queue import run as run_analyses
from bot.pulse.answer import AnswerOutcome, load_survey, record_answers, record_click
from bot.views.pulse import (
    ANSWER_ACTION_PATTERN,
    CHANGE_ACTION,
    CONTINUE_ACTION,
    MODAL_CALLBACK,
    closed_text,
    label_of,
    modal_delivery_id,
    parse_answer_value,
    progress_blocks,
    submitted_answers,
    survey_modal,
    thanks_blocks,
)
from handlers.respond import (
    EXPIRED_TRIGGER,
    NOT_YOURS,
    SAVE_FAILED,
    TOO_SLOW,
    ephemeral,
    message_of,
    open_view,
    update_message,
)

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)

# Slack waits three seconds for the ack, and a modal must open within three seconds of the
# click: a database that restarts meanwhile (it is back in well under a second) is waited
# for this long, so that the person never notices it.
DATABASE_PATIENCE = 1.0


def answer_first_question(
    ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond, deps: Deps
) -> None:
    """A click on one of the first question's buttons in the DM."""
    user_id = body["user"]["id"]
    try:
        delivery_id, question_id, value = parse_answer_value(action.get("value", ""))
    except ValueError:
        ack()
        return
    try:
        outcome = deps.db.retrying(
            lambda: record_click(deps.db, delivery_id, user_id, question_id, value, deps.clock()),
            patience=DATABASE_PATIENCE,
        )
    except SQLAlchemyError:
        log.exception("could not store a pulse answer")
        ack()
        deps.later(ephemeral, respond, SAVE_FAILED)
        return
    # The DM's update is asked for now: one the modal's thank-you asks for later comes after it.
    ticket = deps.message_updates.ticket(*message_of(body))
    ack()
    deps.later(
        _after_first_answer, deps, outcome, delivery_id, body, value, client, respond, ticket
    )


def _after_first_answer(
    deps: Deps,
    outcome: AnswerOutcome,
    delivery_id: int,
    body: dict,
    value: float,
    client: WebClient,
    respond: Respond,
    ticket: int,
) -> None:
    survey = deps.db.retrying(
        lambda: load_survey(deps.db, delivery_id, body["user"]["id"]), patience=DATABASE_PATIENCE
    )
    if outcome == AnswerOutcome.CLOSED and survey is not None:
        ephemeral(respond, closed_text(survey.context()))
        return
    if outcome != AnswerOutcome.RECORDED or survey is None:
        ephemeral(respond, NOT_YOURS)
        return
    context = survey.context()
    if len(survey.questions) > 1 and body.get("trigger_id"):
        modal = survey_modal(context, survey.answers, include_first=False)
        # Whether or not it opens, the answer is stored and the DM below offers "Answer the
        # rest", so a modal that could not open costs nothing.
        open_view(client, body["trigger_id"], modal, "pulse modal")
    chosen = label_of(survey.questions[0], value) or f"{value:g}"
    channel, ts = message_of(body)
    update_message(
        deps.message_updates,
        client,
        channel,
        ts,
        ticket,
        f"Got it: {chosen}",
        progress_blocks(context, chosen),
    )


def open_modal(
    ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond, deps: Deps
) -> None:
    """ "Answer the rest" (the questions after the first) or "Change answers" (all of them)."""
    ack()
    deps.later(_open_modal, deps, body, action, client, respond)


def _open_modal(deps: Deps, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
    try:
        delivery_id = int(action.get("value", ""))
    except ValueError:
        return
    survey = load_survey(deps.db, delivery_id, body["user"]["id"])
    if survey is None:
        ephemeral(respond, NOT_YOURS)
        return
    if not survey.is_open(deps.clock()):
        ephemeral(respond, closed_text(survey.context()))
        return
    include_first = action["action_id"] == CHANGE_ACTION
    modal = survey_modal(survey.context(), survey.answers, include_first=include_first)
    if open_view(client, body["trigger_id"], modal, "pulse modal") == EXPIRED_TRIGGER:
        ephemeral(respond, TOO_SLOW)


def submit_modal(ack: Ack, body: dict, view: dict, client: WebClient, deps: Deps) -> None:
    """The modal sent: every answer stored in one transaction before Slack hears back."""
    user_id = body["user"]["id"]
    inputs = [
        b["block_id"]
        for b in view.get("blocks", [])
        if b.get("type") == "input" and isinstance(b.get("block_id"), str)
    ]

    def refuse(message: str) -> None:
        # The modal stays open with the answers in it, so nothing the person chose is lost.
        if inputs:
            ack(response_action="errors", errors={inputs[0]: message})
        else:
            ack()

    try:
        delivery_id = modal_delivery_id(view)
        values = submitted_answers(view)
    except (ValueError, KeyError, TypeError):
        ack()
        return
    try:
        recorded = deps.db.retrying(
            lambda: record_answers(deps.db, delivery_id, user_id, values, deps.clock()),
            patience=DATABASE_PATIENCE,
        )
    except SQLAlchemyError:
        log.exception("could not store pulse answers")
        refuse(SAVE_FAILED)
        return
    if recorded.outcome == AnswerOutcome.CLOSED and recorded.survey is not None:
        refuse(closed_text(recorded.survey.context()))
        return
    if recorded.outcome != AnswerOutcome.RECORDED or recorded.survey is None:
        refuse(NOT_YOURS)
        return
    survey = recorded.survey
    delivery = survey.delivery
    ticket = deps.message_updates.ticket(delivery.channel_id, delivery.message_ts)
    ack()
    if recorded.analysis_ids:
        deps.when_free(run_analyses, deps.db, deps.analyzer, recorded.analysis_ids)
    deps.later(
        update_message,
        deps.message_updates,
        client,
        delivery.channel_id,
        delivery.message_ts,
        ticket,
        "Thanks, your answers are in.",
        thanks_blocks(survey.context()),
    )


def register(app: App) -> None:
    app.action(re.compile(ANSWER_ACTION_PATTERN))(answer_first_question)
    app.action(CONTINUE_ACTION)(open_modal)
    app.action(CHANGE_ACTION)(open_modal)
    app.view(MODAL_CALLBACK)(submit_modal)
