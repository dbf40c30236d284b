"""The App Home view of one person: what pilot-pulse is, who sees what, and their pilots."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import select

from bot.pilots.participant import subject_value
from bot.pilots.period import local_day
from bot.privacy.own_data import words_of
from bot.views import blocks as views
from bot.views.pulse import RESUME_ACTION, controls
from storage import Database
from storage.models import Participant, Pilot, Role

ERASE_ACTION = "own_data_erase"


def _state(participant: Participant, now: datetime) -> str:
    if participant.opted_out_at is not None:
        return "you have stopped these messages"
    if participant.paused_until is not None and participant.paused_until > now:
        return f"paused until {local_day(participant.paused_until, participant.slack_tz)}"
    if not participant.surveyed:
        return "you see the totals; you are not surveyed"
    return "you get the weekly pulse"


def _controls(participant: Participant, now: datetime) -> dict[str, Any]:
    subject = subject_value(participant_id=participant.id)
    block_id = f"home_controls_{participant.id}"
    paused = participant.paused_until is not None and participant.paused_until > now
    if participant.opted_out_at is not None or paused:
        label = "Start again" if participant.opted_out_at is not None else "Resume now"
        return {
            "type": "actions",
            "block_id": block_id,
            "elements": [views.button(label, RESUME_ACTION, subject)],
        }
    return controls(subject, block_id=block_id)


def home_view(
    db: Database, slack_user_id: str, now: datetime, *, retention_days: int = 90
) -> dict[str, Any]:
    """The Home tab for `slack_user_id`."""
    with db.session() as session:
        rows = session.exec(
            select(Participant, Pilot)
            .join(Pilot, Pilot.id == Participant.pilot_id)
            .where(Participant.slack_user_id == slack_user_id)
            .order_by(Pilot.name)
        ).all()
    blocks: views.Blocks = [
        views.header_block("pilot-pulse"),
        views.text_block(
            "Every week I ask a few one-click questions about the AI tool your team is trying "
            "out, and now and then for a short chat about what helps and what gets in the way."
        ),
    ]
    if not rows:
        blocks.append(views.text_block("You are not in any pilot at the moment."))
    for participant, pilot in rows:
        role = "" if participant.role == Role.MEMBER else f" · {participant.role}"
        blocks.append(
            views.text_block(f"*{pilot.name}* · {pilot.tool}{role}\n{_state(participant, now)}")
        )
        if participant.surveyed:
            blocks.append(_controls(participant, now))
        blocks.append(views.context_block(views.privacy_line(pilot.min_group_size)))
    if rows:
        blocks += _own_words(db, slack_user_id, retention_days)
    return {"type": "home", "blocks": blocks}


def _own_words(db: Database, slack_user_id: str, retention_days: int) -> views.Blocks:
    """What the person wrote, as they wrote it: only they ever see this."""
    written = words_of(db, slack_user_id)
    blocks: views.Blocks = [
        {"type": "divider"},
        views.text_block("*Your words* (only you see this)"),
    ]
    if written:
        for item in written:
            blocks.append(
                views.context_block(f"{item.when:%d %b}, {item.where}: {_quote(item.text)}")
            )
    else:
        blocks.append(views.context_block("Nothing you wrote is kept at the moment."))
    erase = views.button("Delete all my answers", ERASE_ACTION, "me", style="danger")
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
        views.context_block(
            f"What you type is kept as written only for you, and for {retention_days} days at most."
        )
    )
    return blocks


def _quote(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return "“" + text.replace("<", "&lt;").replace(">", "&gt;") + "”"
