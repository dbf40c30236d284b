"""Block Kit and text for check-ins: the opening DM, the closing thanks with its recap, and the
short answer to a DM when no check-in is open. Pure functions, data in, blocks out."""

from __future__ import annotations

from typing import Any

from bot.views.blocks import Blocks, context_block, text_block
from bot.views.preferences import controls, subject_value


def checkin_privacy_line(minimum: int) -> str:
    return (
        f"Only anonymised themes from {minimum} or more people reach the pilot team; your name "
        "is never attached. I'll ask at most two follow-up questions."
    )


def opener_text(tool: str, first_name: str | None, workflow: str | None) -> str:
    hello = f"Hi {first_name}! " if first_name else "Hi! "
    about = f" for {workflow}" if workflow else ""
    return (
        f"{hello}A quick check-in on *{tool}*{about}: how has it fitted into your work this week? "
        "What's one thing that helped, or got in the way? Just reply here, in your own words."
    )


def opener_blocks(
    tool: str, first_name: str | None, workflow: str | None, minimum: int, delivery_id: int
) -> Blocks:
    return [
        text_block(opener_text(tool, first_name, workflow)),
        context_block(checkin_privacy_line(minimum)),
        controls(subject_value(delivery_id=delivery_id), block_id="checkin_controls"),
    ]


def closing_text(first_name: str | None, recap: str | None) -> str:
    thanks = f"Thanks, {first_name}!" if first_name else "Thank you!"
    if not recap:
        return f"{thanks} That's all I wanted to ask this week."
    return f"{thanks} That's all I wanted to ask. What I'll pass on, without your name: _{recap}_"


def no_checkin_blocks(
    tool: str | None, participant_id: int | None, *, closed: bool = False
) -> Blocks:
    """The answer to a DM when no check-in is open (or the one replied to has closed): what
    this bot is, and how to pause or stop."""
    if tool is None or participant_id is None:
        return [
            text_block(
                "Hi! I'm pilot-pulse. I help teams try out new AI tools by asking a few one-click "
                "questions each week. You're not in a pilot at the moment, so there's nothing to do."
            )
        ]
    state = (
        "That check-in has closed, so this reply isn't recorded; thanks all the same."
        if closed
        else "There's no check-in open right now, so this message isn't recorded."
    )
    blocks: Blocks = [
        text_block(
            f"Hi! I'm pilot-pulse. Each week I send a one-click pulse about *{tool}*, and now "
            f"and then a short check-in. {state} I'll be in touch with the next one."
        ),
        context_block(
            "Want a break from these messages? Pause or stop them here, or on my Home tab."
        ),
        controls(subject_value(participant_id=participant_id), block_id="dm_controls"),
    ]
    return blocks


def no_checkin_text(*, closed: bool = False) -> str:
    if closed:
        return "That check-in has closed, so this reply isn't recorded."
    return "There's no check-in open right now, so this message isn't recorded."


def message_kwargs(text: str, thread_ts: str | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"text": text, "unfurl_links": False, "unfurl_media": False}
    if thread_ts:
        kwargs["thread_ts"] = thread_ts
    return kwargs
