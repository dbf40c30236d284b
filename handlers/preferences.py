"""Pause for two weeks, stop these messages, start again: the same buttons on every surface (a
pulse DM, a check-in DM, the answer to a stray DM, the Home tab), handled here alone.

The choice is stored before Slack is acknowledged and takes effect at once. Where it was made
in a message, an ephemeral reply confirms it with a way back; on the Home tab, which has no
response_url, the tab is published again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond
from sqlalchemy.exc import SQLAlchemyError

from bot.pilots.participant import Choice, Preference, choose
from bot.pilots.period import local_day
from bot.views.preferences import (
    PAUSE_ACTION,
    RESUME_ACTION,
    STOP_ACTION,
    parse_subject,
    paused_blocks,
    resumed_text,
    stopped_blocks,
)
from handlers.home import publish_home
from handlers.respond import NOT_YOURS, SAVE_FAILED, ephemeral

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)


def _choose(
    preference: Preference, ack: Ack, body: dict, action: dict, respond: Respond, deps: Deps
) -> Choice | None:
    """Apply the person's choice and answer Slack; the choice when it is to be confirmed here."""
    user_id = body["user"]["id"]
    subject = parse_subject(action.get("value", ""))
    try:
        choice = (
            choose(
                deps.db,
                user_id,
                preference,
                deps.clock(),
                delivery_id=subject.delivery_id,
                participant_id=subject.participant_id,
            )
            if subject is not None
            else None
        )
    except SQLAlchemyError:
        log.exception("could not store a pause or stop")
        ack()
        deps.later(ephemeral, respond, SAVE_FAILED)
        return None
    ack()
    if (body.get("view") or {}).get("type") == "home":
        if choice is not None:
            deps.later(publish_home, deps, deps.client, user_id)
        return None
    if choice is None:
        deps.later(ephemeral, respond, NOT_YOURS)
    return choice


def pause(ack: Ack, body: dict, action: dict, respond: Respond, deps: Deps) -> None:
    choice = _choose(Preference.PAUSE, ack, body, action, respond, deps)
    if choice is not None:
        until = choice.paused_until
        shown = local_day(until, choice.slack_tz) if until else "further notice"
        blocks = paused_blocks(choice.pilot, shown, action["value"])
        deps.later(ephemeral, respond, f"Paused until {shown}.", blocks)


def stop(ack: Ack, body: dict, action: dict, respond: Respond, deps: Deps) -> None:
    choice = _choose(Preference.STOP, ack, body, action, respond, deps)
    if choice is not None:
        blocks = stopped_blocks(choice.pilot, action["value"])
        deps.later(ephemeral, respond, "Done: no more messages.", blocks)


def resume(ack: Ack, body: dict, action: dict, respond: Respond, deps: Deps) -> None:
    choice = _choose(Preference.RESUME, ack, body, action, respond, deps)
    if choice is not None:
        deps.later(
            respond,
            text=resumed_text(choice.pilot),
            response_type="ephemeral",
            replace_original=True,
        )


def register(app: App) -> None:
    app.action(PAUSE_ACTION)(pause)
    app.action(STOP_ACTION)(stop)
    app.action(RESUME_ACTION)(resume)
