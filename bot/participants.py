"""A participant's own choices: pause for a while, stop these messages, start again.

Each takes effect at once: the sender checks them just before each message goes out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import select

from storage import Database
from storage.models import Delivery, Participant, Pilot

PAUSE = timedelta(days=14)


@dataclass
class Choice:
    pilot: str
    participant_id: int
    paused_until: datetime | None
    opted_out: bool
    slack_tz: str | None


def _apply(db: Database, delivery_id: int, slack_user_id: str, change: dict) -> Choice | None:
    with db.transaction() as session:
        row = session.exec(
            select(Participant, Pilot)
            .join(Delivery, Delivery.participant_id == Participant.id)
            .join(Pilot, Pilot.id == Participant.pilot_id)
            .where(Delivery.id == delivery_id)
        ).first()
        if row is None:
            return None
        participant, pilot = row
        if participant.slack_user_id != slack_user_id:
            return None
        for name, value in change.items():
            setattr(participant, name, value)
        session.add(participant)
        return Choice(
            pilot=pilot.name,
            participant_id=participant.id,
            paused_until=participant.paused_until,
            opted_out=participant.opted_out_at is not None,
            slack_tz=participant.slack_tz,
        )


def pause(db: Database, delivery_id: int, slack_user_id: str, now: datetime) -> Choice | None:
    """Pause the person's messages of this delivery's pilot for two weeks."""
    return _apply(db, delivery_id, slack_user_id, {"paused_until": now + PAUSE})


def stop(db: Database, delivery_id: int, slack_user_id: str, now: datetime) -> Choice | None:
    """Stop the person's messages of this delivery's pilot until they start again."""
    return _apply(db, delivery_id, slack_user_id, {"opted_out_at": now, "paused_until": None})


def resume(db: Database, delivery_id: int, slack_user_id: str, now: datetime) -> Choice | None:
    """Undo a pause or a stop."""
    return _apply(db, delivery_id, slack_user_id, {"opted_out_at": None, "paused_until": None})
