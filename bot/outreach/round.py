"""Rounds: one pulse or check-in per pilot per period, opened with its deliveries in one go.

The round and one delivery row per eligible person are written in the same transaction, so a
crash leaves either nothing or a round that any sender can finish.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, or_
from sqlmodel import Session, select

from bot.pilots.period import parse_period, period_of
from bot.pilots.question import current_question_set
from storage import Database
from storage.models import (
    Answer,
    Delivery,
    DeliveryStatus,
    Participant,
    Pilot,
    Purpose,
    Round,
    RoundKind,
)
from storage.upsert import insert_ignore

# Inserting tens of thousands of rows in one statement strains both drivers' parameter limits.
_CHUNK = 500


@dataclass
class OpenedRound:
    round: Round
    created: bool


def eligible(now: datetime) -> list:
    """Conditions for a participant who may be messaged now: surveyed, still in the pilot, not
    paused, not out."""
    return [
        Participant.surveyed.is_(True),
        Participant.left_at.is_(None),
        Participant.opted_out_at.is_(None),
        or_(Participant.paused_until.is_(None), Participant.paused_until <= now),
    ]


def find_round(session: Session, pilot_id: int, kind: str, period: str) -> Round | None:
    return session.exec(
        select(Round).where(Round.pilot_id == pilot_id, Round.kind == kind, Round.period == period)
    ).first()


def current_period(session: Session, pilot: Pilot, kind: str, now: datetime) -> str:
    """The period whose round of `kind` people are answering now: the latest round still open
    (a pulse sent late last week can still be open on Monday), else this week's period."""
    latest = session.exec(
        select(Round.period)
        .where(Round.pilot_id == pilot.id, Round.kind == kind, Round.closes_at > now)
        .order_by(Round.opened_at.desc())
        .limit(1)
    ).first()
    return latest or period_of(now, pilot.timezone)


def chosen_period(session: Session, pilot: Pilot, period: str | None, now: datetime) -> str:
    """`period` as an operator gave it (checked), or the current pulse's period: what `report`
    and `digest send|show` take without `--period`."""
    if period is None:
        return current_period(session, pilot, RoundKind.PULSE, now)
    parse_period(period)
    return period


def close_days(pilot: Pilot, default: int) -> int:
    return pilot.round_close_days or default


def open_round(
    db: Database, pilot: Pilot, kind: str, now: datetime, *, close_after_days: int
) -> OpenedRound:
    """Open this period's round of `kind` for `pilot`, or find the one already open.

    Deliveries go to everyone eligible at this moment; people who pause or stop later are
    skipped by the sender.
    """
    period = period_of(now, pilot.timezone)
    with db.transaction() as session:
        question_set = current_question_set(session, pilot.id) if kind == RoundKind.PULSE else None
        created = insert_ignore(
            session,
            Round,
            {
                "pilot_id": pilot.id,
                "kind": kind,
                "period": period,
                "question_set_id": question_set.id if question_set else None,
                "opened_at": now,
                "closes_at": now + timedelta(days=close_days(pilot, close_after_days)),
            },
            key=["pilot_id", "kind", "period"],
        )
        round_ = find_round(session, pilot.id, kind, period)
        assert round_ is not None
        if not created:
            return OpenedRound(round=round_, created=False)
        people = session.exec(
            select(Participant.id).where(Participant.pilot_id == pilot.id, *eligible(now))
        ).all()
        _add_deliveries(session, round_.id, people, Purpose.INVITE, now)
    return OpenedRound(round=round_, created=True)


def _add_deliveries(
    session: Session, round_id: int, participant_ids: list[int], purpose: str, now: datetime
) -> int:
    """One delivery per person for the round and purpose; returns how many were new."""
    added = 0
    for start in range(0, len(participant_ids), _CHUNK):
        added += insert_ignore(
            session,
            Delivery,
            [
                {
                    "round_id": round_id,
                    "participant_id": participant_id,
                    "purpose": purpose,
                    "created_at": now,
                    "updated_at": now,
                }
                for participant_id in participant_ids[start : start + _CHUNK]
            ],
            key=["round_id", "participant_id", "purpose"],
        )
    return added


def add_reminders(db: Database, round_: Round, now: datetime) -> int:
    """Reminder deliveries for people who got the round but have not answered; at most one each.

    Returns how many reminders were added (0 when the reminder was sent before).
    """
    answered = exists().where(Answer.delivery_id == Delivery.id)
    with db.transaction() as session:
        people = session.exec(
            select(Delivery.participant_id)
            .join(Participant, Participant.id == Delivery.participant_id)
            .where(
                Delivery.round_id == round_.id,
                Delivery.purpose == Purpose.INVITE,
                Delivery.status == DeliveryStatus.SENT,
                ~answered,
                *eligible(now),
            )
        ).all()
        added = _add_deliveries(session, round_.id, people, Purpose.REMINDER, now)
    return added
