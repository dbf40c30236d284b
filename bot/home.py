"""The App Home view of one person: what pilot-pulse is, who sees what, and their pilots."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import select

from bot import views
from bot.participants import subject_value
from bot.pulse_views import RESUME_ACTION, controls
from storage import Database
from storage.models import Participant, Pilot, Role


def _state(participant: Participant, now: datetime) -> str:
    if participant.opted_out_at is not None:
        return "you have stopped these messages"
    if participant.paused_until is not None and participant.paused_until > now:
        return f"paused until {participant.paused_until:%d %b}"
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


def home_view(db: Database, slack_user_id: str, now: datetime) -> dict[str, Any]:
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
    return {"type": "home", "blocks": blocks}
