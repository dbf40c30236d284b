"""A participant's own choices: pause for a while, stop these messages, start again.

Each takes effect at once: the sender checks them just before each message goes out.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from bot.privacy.scrub import Scrubber
from storage import Database
from storage.models import Delivery, Participant, Pilot, WorkspaceMember

PAUSE = timedelta(days=14)


def first_name(real_name: str | None, display_name: str | None) -> str | None:
    """What a DM calls the person: their display name, else the first word of their name."""
    return (display_name or (real_name or "").split(" ")[0]) or None


@dataclass
class Choice:
    pilot: str
    participant_id: int
    paused_until: datetime | None
    opted_out: bool
    slack_tz: str | None


def subject_value(*, delivery_id: int | None = None, participant_id: int | None = None) -> str:
    """A button value naming whose messages a choice is about: a delivery (from a DM) or a
    participant (from the Home tab, where there may be no delivery yet)."""
    return f"d:{delivery_id}" if delivery_id is not None else f"p:{participant_id}"


def _apply(db: Database, subject: str, slack_user_id: str, change: dict) -> Choice | None:
    kind, _, number = subject.partition(":")
    if not number.isdigit() or kind not in ("d", "p"):
        return None
    query = select(Participant, Pilot).join(Pilot, Pilot.id == Participant.pilot_id)
    if kind == "d":
        query = query.join(Delivery, Delivery.participant_id == Participant.id).where(
            Delivery.id == int(number)
        )
    else:
        query = query.where(Participant.id == int(number))
    with db.transaction() as session:
        row = session.exec(query).first()
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


def pause(db: Database, subject: str, slack_user_id: str, now: datetime) -> Choice | None:
    """Pause the person's messages of this delivery's pilot for two weeks."""
    return _apply(db, subject, slack_user_id, {"paused_until": now + PAUSE})


def stop(db: Database, subject: str, slack_user_id: str, now: datetime) -> Choice | None:
    """Stop the person's messages of this delivery's pilot until they start again."""
    return _apply(db, subject, slack_user_id, {"opted_out_at": now, "paused_until": None})


def resume(db: Database, subject: str, slack_user_id: str, now: datetime) -> Choice | None:
    """Undo a pause or a stop."""
    return _apply(db, subject, slack_user_id, {"opted_out_at": None, "paused_until": None})


_SCRUBBER: tuple[tuple, Scrubber] | None = None
_SCRUBBER_LOCK = threading.Lock()


def workspace_scrubber(session: Session) -> Scrubber:
    """A scrubber that knows the name of every person in any pilot and every workspace member
    learnt from Slack. Rebuilt only when people were added, removed or renamed."""
    global _SCRUBBER
    key = (
        *session.exec(select(func.count(), func.max(Participant.id))).one(),
        *session.exec(select(func.count(), func.max(WorkspaceMember.updated_at))).one(),
    )
    cached = _SCRUBBER
    if cached is not None and cached[0] == key:
        return cached[1]
    people = session.exec(select(Participant.real_name, Participant.display_name)).all()
    others = session.exec(select(WorkspaceMember.real_name, WorkspaceMember.display_name)).all()
    scrubber = Scrubber(
        (name for pair in people for name in pair if name),
        workspace_names=(name for pair in others for name in pair if name),
    )
    with _SCRUBBER_LOCK:
        _SCRUBBER = (key, scrubber)  # type: ignore[assignment]
    return scrubber


def pilot_names(session: Session, pilot_id: int) -> list[str]:
    """Every name and display name in one pilot."""
    rows = session.exec(
        select(Participant.real_name, Participant.display_name).where(
            Participant.pilot_id == pilot_id
        )
    ).all()
    return [name for pair in rows for name in pair if name]
