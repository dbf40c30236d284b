"""The pulse DM's buttons and modal: answer, answer the rest, change answers, pause, stop, resume.

Every answer is stored before Slack is acknowledged, so an acknowledged click is never lost;
the modal and the message update follow the ack.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from bot.analysis.queue import run as run_analyses
from bot.pilots import participant as participants
from bot.pilots.period import local_day
from bot.pulse.answer import Outcome, load_survey, record_answers, record_click
from bot.views.pulse import (
    ANSWER_ACTION_PATTERN,
    CHANGE_ACTION,
    CONTINUE_ACTION,
    MODAL_CALLBACK,
    PAUSE_ACTION,
    RESUME_ACTION,
    STOP_ACTION,
    closed_text,
    label_of,
    modal_delivery_id,
    parse_answer_value,
    paused_blocks,
    progress_blocks,
    resumed_text,
    stopped_blocks,
    submitted_answers,
    survey_modal,
    thanks_blocks,
)
from handlers.home import publish_home

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)

NOT_YOURS = "That survey isn't yours, or it no longer exists."
SAVE_FAILED = "Sorry, I couldn't save that just now. Please try again in a minute."


def _ephemeral(respond: Respond, text: str, blocks: list | None = None) -> None:
    respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)


def _message_of(body: dict[str, Any]) -> tuple[str | None, str | None]:
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    return channel, container.get("message_ts")


def _update(
    client: WebClient, channel: str | None, ts: str | None, text: str, blocks: list
) -> None:
    if not channel or not ts:
        return
    try:
        client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
    except SlackApiError as exc:
        # The answer is stored; a message that cannot be updated only looks stale.
        log.warning(
            "could not update the pulse message %s/%s: %s", channel, ts, exc.response.get("error")
        )


def register(app: App, deps: Deps) -> None:
    db = deps.db

    def answer_first_question(
        ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond
    ) -> None:
        user_id = body["user"]["id"]
        try:
            delivery_id, question_id, value = parse_answer_value(action.get("value", ""))
        except ValueError:
            ack()
            return
        try:
            outcome = record_click(db, delivery_id, user_id, question_id, value, deps.clock())
        except SQLAlchemyError:
            log.exception("could not store a pulse answer")
            ack()
            deps.later(_ephemeral, respond, SAVE_FAILED)
            return
        ack()
        deps.later(_after_first_answer, outcome, delivery_id, body, value, client, respond)

    def _after_first_answer(
        outcome: Outcome,
        delivery_id: int,
        body: dict,
        value: float,
        client: WebClient,
        respond: Respond,
    ) -> None:
        survey = load_survey(db, delivery_id, body["user"]["id"])
        if outcome == Outcome.CLOSED and survey is not None:
            _ephemeral(respond, closed_text(survey.context()))
            return
        if outcome != Outcome.RECORDED or survey is None:
            _ephemeral(respond, NOT_YOURS)
            return
        context = survey.context()
        if len(survey.questions) > 1 and body.get("trigger_id"):
            modal = survey_modal(context, survey.answers, include_first=False)
            try:
                client.views_open(trigger_id=body["trigger_id"], view=modal)
            except SlackApiError as exc:
                # The answer is stored and the DM below offers "Answer the rest" anyway.
                log.warning("could not open the pulse modal: %s", exc.response.get("error"))
        chosen = label_of(survey.questions[0], value) or f"{value:g}"
        channel, ts = _message_of(body)
        _update(client, channel, ts, f"Got it: {chosen}", progress_blocks(context, chosen))

    def open_modal(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        ack()
        deps.later(_open_modal, body, action, client, respond)

    def _open_modal(body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        try:
            delivery_id = int(action.get("value", ""))
        except ValueError:
            return
        survey = load_survey(db, delivery_id, body["user"]["id"])
        if survey is None:
            _ephemeral(respond, NOT_YOURS)
            return
        if not survey.is_open(deps.clock()):
            _ephemeral(respond, closed_text(survey.context()))
            return
        include_first = action["action_id"] == CHANGE_ACTION
        client.views_open(
            trigger_id=body["trigger_id"],
            view=survey_modal(survey.context(), survey.answers, include_first=include_first),
        )

    def submit_modal(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        user_id = body["user"]["id"]
        inputs = [b["block_id"] for b in view.get("blocks", []) if b.get("type") == "input"]

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
            recorded = record_answers(db, delivery_id, user_id, values, deps.clock())
        except SQLAlchemyError:
            log.exception("could not store pulse answers")
            refuse(SAVE_FAILED)
            return
        if recorded.outcome == Outcome.CLOSED and recorded.survey is not None:
            refuse(closed_text(recorded.survey.context()))
            return
        if recorded.outcome != Outcome.RECORDED or recorded.survey is None:
            refuse(NOT_YOURS)
            return
        ack()
        survey = recorded.survey
        delivery = survey.delivery
        if recorded.analysis_ids:
            deps.slowly(run_analyses, db, deps.analyzer, recorded.analysis_ids)
        deps.later(
            _update,
            client,
            delivery.channel_id,
            delivery.message_ts,
            "Thanks, your answers are in.",
            thanks_blocks(survey.context()),
        )

    def _choose(
        change: Any, ack: Ack, body: dict, action: dict, respond: Respond
    ) -> participants.Choice | None:
        """Apply a person's choice, answer Slack, and confirm it where they made it."""
        user_id = body["user"]["id"]
        try:
            choice = change(db, action.get("value", ""), user_id, deps.clock())
        except SQLAlchemyError:
            log.exception("could not store a pause or stop")
            ack()
            deps.later(_ephemeral, respond, SAVE_FAILED)
            return None
        ack()
        if (body.get("view") or {}).get("type") == "home":
            # The Home tab has no response_url: the tab itself, published again, confirms it.
            if choice is not None:
                deps.later(publish_home, deps, deps.client, user_id)
            return None
        if choice is None:
            deps.later(_ephemeral, respond, NOT_YOURS)
        return choice

    def pause(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        choice = _choose(participants.pause, ack, body, action, respond)
        if choice is not None:
            until = choice.paused_until
            shown = local_day(until, choice.slack_tz) if until else "further notice"
            blocks = paused_blocks(choice.pilot, shown, action["value"])
            deps.later(_ephemeral, respond, f"Paused until {shown}.", blocks)

    def stop(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        choice = _choose(participants.stop, ack, body, action, respond)
        if choice is not None:
            blocks = stopped_blocks(choice.pilot, action["value"])
            deps.later(_ephemeral, respond, "Done: no more messages.", blocks)

    def resume(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        choice = _choose(participants.resume, ack, body, action, respond)
        if choice is not None:
            deps.later(
                respond,
                text=resumed_text(choice.pilot),
                response_type="ephemeral",
                replace_original=True,
            )

    app.action(re.compile(ANSWER_ACTION_PATTERN))(answer_first_question)
    app.action(CONTINUE_ACTION)(open_modal)
    app.action(CHANGE_ACTION)(open_modal)
    app.view(MODAL_CALLBACK)(submit_modal)
    app.action(PAUSE_ACTION)(pause)
    app.action(STOP_ACTION)(stop)
    app.action(RESUME_ACTION)(resume)
