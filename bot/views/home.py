"""The App Home view of one person: what pilot-pulse is, who sees what, their pilots with
pause/stop, and their own words with a button that erases every answer. Pure: the caller
reads the memberships and words."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.pilots.period import local_day
from bot.views.blocks import Blocks, button, context_block, header_block, privacy_line, text_block
from bot.views.preferences import RESUME_ACTION, controls, subject_value

if TYPE_CHECKING:
    from bot.pilots.participant import Membership
    from bot.privacy.own_data import Written

ERASE_ACTION = "own_data_erase"
_MEMBER = "member"  # storage.models.Role.MEMBER, compared as its plain value


def _paused(membership: Membership, now: datetime) -> bool:
    return membership.paused_until is not None and membership.paused_until > now


def _state(membership: Membership, now: datetime) -> str:
    if membership.opted_out:
        return "you have stopped these messages"
    if _paused(membership, now):
        assert membership.paused_until is not None
        return f"paused until {local_day(membership.paused_until, membership.slack_tz)}"
    if not membership.surveyed:
        return "you see the totals; you are not surveyed"
    return "you get the weekly pulse"


def _controls(membership: Membership, now: datetime) -> dict[str, Any]:
    subject = subject_value(participant_id=membership.participant_id)
    block_id = f"home_controls_{membership.participant_id}"
    if membership.opted_out or _paused(membership, now):
        label = "Start again" if membership.opted_out else "Resume now"
        return {
            "type": "actions",
            "block_id": block_id,
            "elements": [button(label, RESUME_ACTION, subject)],
        }
    return controls(subject, block_id=block_id)


def home_view(
    memberships: list[Membership],
    written: list[Written],
    now: datetime,
    *,
    retention_days: int = 90,
) -> dict[str, Any]:
    """The Home tab of a person in `memberships`, who wrote `written`."""
    blocks: Blocks = [
        header_block("pilot-pulse"),
        text_block(
            "Every week I ask a few one-click questions about the AI tool your team is trying "
            "out, and now and then for a short chat about what helps and what gets in the way."
        ),
    ]
    if not memberships:
        blocks.append(text_block("You are not in any pilot at the moment."))
    for membership in memberships:
        role = "" if membership.role == _MEMBER else f" · {membership.role}"
        blocks.append(
            text_block(f"*{membership.pilot}* · {membership.tool}{role}\n{_state(membership, now)}")
        )
        if membership.surveyed:
            blocks.append(_controls(membership, now))
        blocks.append(context_block(privacy_line(membership.min_group_size)))
    if memberships:
        blocks += _own_words(written, retention_days)
    return {"type": "home", "blocks": blocks}


def _own_words(written: list[Written], retention_days: int) -> Blocks:
    """What the person wrote, as they wrote it: only they ever see this."""
    blocks: Blocks = [{"type": "divider"}, text_block("*Your words* (only you see this)")]
    if written:
        for item in written:
            blocks.append(context_block(f"{item.when:%d %b}, {item.where}: {_quote(item.text)}"))
    else:
        blocks.append(context_block("Nothing you wrote is kept at the moment."))
    erase = button("Delete all my answers", ERASE_ACTION, "me", style="danger")
    erase["confirm"] = {
        "title": {"type": "plain_text", "text": "Delete your answers?"},
        "text": {
            "type": "mrkdwn",
            "text": "Every answer you gave and the words of your check-in replies are deleted "
            "for good, in every pilot, and leave the totals.",
        },
        "confirm": {"type": "plain_text", "text": "Delete"},
        "deny": {"type": "plain_text", "text": "Keep them"},
    }
    blocks.append({"type": "actions", "block_id": "own_data", "elements": [erase]})
    blocks.append(
        context_block(
            f"What you type is kept as written only for you, and for {retention_days} days at most."
        )
    )
    return blocks


def _quote(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return "“" + text.replace("<", "&lt;").replace(">", "&gt;") + "”"
