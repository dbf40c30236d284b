"""Small ways of answering a person that several surfaces share (not a surface itself)."""

from __future__ import annotations

import logging
from http.client import HTTPException
from typing import TYPE_CHECKING

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import slack_error_code

if TYPE_CHECKING:
    from bot.runtime.slack_client import MessageUpdates

log = logging.getLogger(__name__)

NOT_YOURS = "That survey isn't yours, or it no longer exists."
SAVE_FAILED = "Sorry, I couldn't save that just now. Please try again in a minute."


# Slack's trigger_id lives three seconds; work after the ack that started late (a busy
# process) finds it spent, and the person must press the button again.
EXPIRED_TRIGGER = "expired_trigger_id"
TOO_SLOW = (
    "Sorry, that took longer than Slack waits for a form to open. Please press the button again."
)


def open_view(client: WebClient, trigger_id: str, view: dict, what: str) -> str | None:
    """Open the modal `view`; None once it is open, else why not: Slack's error code
    (`expired_trigger_id` when the trigger's three seconds had passed), or "no answer" when
    Slack's reply was lost (the modal may well have opened). Logged either way."""
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        code = slack_error_code(exc)
        log.warning("could not open the %s: %s", what, code)
        return code
    except (OSError, HTTPException) as exc:
        log.warning("could not hear back from Slack opening the %s: %s", what, exc)
        return "no answer"
    return None


def ephemeral(respond: Respond, text: str, blocks: list | None = None) -> None:
    """A reply only the person sees, under the message they acted on."""
    respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)


def message_of(body: dict) -> tuple[str | None, str | None]:
    """(channel, ts) of the message an action came from, when it came from one (each None
    when it is not text, as Slack's always is)."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts")
    return (
        channel if isinstance(channel, str) else None,
        ts if isinstance(ts, str) else None,
    )


def update_message(
    updates: MessageUpdates,
    client: WebClient,
    channel: str | None,
    ts: str | None,
    ticket: int,
    text: str,
    blocks: list,
) -> None:
    """Replace a message of the bot's (see `MessageUpdates`); a failure only leaves it looking
    stale."""
    if not channel or not ts:
        return
    try:
        updates.send(client, channel, ts, ticket, text, blocks)
    except SlackApiError as exc:
        log.warning(
            "could not update the message %s/%s: %s", channel, ts, exc.response.get("error")
        )
    except (OSError, HTTPException) as exc:
        log.warning("could not reach Slack to update the message %s/%s: %s", channel, ts, exc)
