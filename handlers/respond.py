"""Small ways of answering a person that several surfaces share (not a surface itself)."""

from __future__ import annotations

import logging

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

NOT_YOURS = "That survey isn't yours, or it no longer exists."
SAVE_FAILED = "Sorry, I couldn't save that just now. Please try again in a minute."


def ephemeral(respond: Respond, text: str, blocks: list | None = None) -> None:
    """A reply only the person sees, under the message they acted on."""
    respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)


def message_of(body: dict) -> tuple[str | None, str | None]:
    """(channel, ts) of the message an action came from, when it came from one."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    return channel, container.get("message_ts")


def update_message(
    client: WebClient, channel: str | None, ts: str | None, text: str, blocks: list
) -> None:
    """Replace a message of the bot's; a failure only leaves it looking stale."""
    if not channel or not ts:
        return
    try:
        client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
    except SlackApiError as exc:
        log.warning(
            "could not update the message %s/%s: %s", channel, ts, exc.response.get("error")
        )
