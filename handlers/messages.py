"""Direct messages to the bot: replies to a check-in, or a helpful answer when none is open.

The reply is stored before Slack is acknowledged; the bot's next question (or its thanks)
follows a moment later, once the words have been analysed.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.checkins.reply import Reply, ReplyOutcome, record_reply
from bot.checkins.turn import answer
from bot.errors import slack_error_code
from bot.usage.upload import import_upload
from bot.views.checkin import no_checkin_blocks, no_checkin_text

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)

# Subtypes that are still a person writing to us; edits, deletions and joins are not.
_PERSON_WRITES = (None, "thread_broadcast", "file_share")
# The fields of a message event read here: text whenever Slack sends them.
_TEXT_FIELDS = ("user", "channel", "channel_type", "ts", "thread_ts", "text", "subtype", "bot_id")


def _from_whom(event: dict) -> bool:
    """Whether the message says who wrote it, where and when: every message of a person does."""
    return all(event.get(key) for key in ("user", "channel", "ts"))


def _well_formed(event: dict) -> bool:
    """Whether the fields read here have the types Slack gives them (a message with a list for
    its ts is not one of Slack's, and is not stored)."""
    if any(event.get(key) is not None and not isinstance(event[key], str) for key in _TEXT_FIELDS):
        return False
    files = event.get("files")
    return files is None or (isinstance(files, list) and all(isinstance(f, dict) for f in files))


def _bot_turn(deps: Deps, checkin_id: int, thread_ts: str | None, client: WebClient) -> None:
    answer(deps.db, deps.analyzer, client, checkin_id, deps.clock, thread_ts=thread_ts)


def _post(client: WebClient, **message: object) -> None:
    """Answer in the person's DM; what they sent is stored (or imported) whether or not the
    answer gets through, so Slack's refusal (the DM gone, the account deactivated since) is
    one line, not a failure."""
    try:
        client.chat_postMessage(**message)
    except SlackApiError as exc:
        log.warning("could not answer in %s: %s", message.get("channel"), slack_error_code(exc))


def _answer_outside_checkin(reply: Reply, event: dict, client: WebClient) -> None:
    closed = reply.outcome == ReplyOutcome.CLOSED
    _post(
        client,
        channel=event["channel"],
        text=no_checkin_text(closed=closed),
        blocks=no_checkin_blocks(reply.tool, reply.participant_id, closed=closed),
        **({"thread_ts": event["thread_ts"]} if event.get("thread_ts") else {}),
    )


def _usage_upload(deps: Deps, event: dict, context: dict, client: WebClient) -> None:
    reply = import_upload(
        deps.db,
        client,
        event["user"],
        event.get("files") or [],
        event.get("text") or "",
        deps.clock(),
        admins=deps.settings.admin_user_ids,
    )
    if reply is None:
        # Not someone who runs a pilot: the file is not an export for us; the words, if any,
        # are what they are (a check-in reply, or a message outside one).
        if (event.get("text") or "").strip():
            _record(deps, event, context, client)
        return
    _post(client, channel=event["channel"], text="\n".join(reply)[:3000])


def direct_message(event: dict, context: dict, client: WebClient, deps: Deps) -> None:
    """A person's message in their DM with the bot (`message.im`)."""
    if event.get("channel_type") != "im" or event.get("bot_id") or not _well_formed(event):
        return
    if event.get("subtype") not in _PERSON_WRITES or not _from_whom(event):
        return
    if event.get("subtype") == "file_share" and event.get("files"):
        # A champion's usage export: fetched and imported after Slack has been answered.
        deps.slowly(_usage_upload, deps, event, {"event_id": context.get("event_id")}, client)
        return
    _record(deps, event, context, client)


def _record(deps: Deps, event: dict, context: dict, client: WebClient) -> None:
    user_id, text = event["user"], (event.get("text") or "").strip()
    if not text:
        return
    reply = record_reply(
        deps.db,
        slack_user_id=user_id,
        channel_id=event["channel"],
        ts=event["ts"],
        text=text,
        event_id=context.get("event_id"),
        now=deps.clock(),
        thread_ts=event.get("thread_ts"),
    )
    if reply.outcome == ReplyOutcome.STORED and reply.checkin_id is not None:
        # The turn waits a moment (on a timer, not in a worker) so that two quick messages get
        # one answer: the turn taken after both covers both.
        deps.after(
            deps.checkin_settle, _bot_turn, deps, reply.checkin_id, event.get("thread_ts"), client
        )
    elif reply.outcome in (ReplyOutcome.NO_CHECKIN, ReplyOutcome.CLOSED):
        deps.later(_answer_outside_checkin, reply, event, client)


def register(app: App) -> None:
    app.event("message")(direct_message)
