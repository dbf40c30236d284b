"""Rounds: one pulse or check-in per pilot per period, opened with its deliveries in one go.

The round and one delivery row per eligible person are written in the same transaction, so a
crash leaves either nothing or a round that any sender can finish. Each delivery is due at the
pilot's slot in that person's own time zone (`bot.pilots.calendar`): the clock opens the round
when the slot comes in the earliest zone, and the sender takes each row only once it is due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, update
from sqlmodel import Session, select

from bot.pilots.calendar import (
    REMINDER_GAP_HOURS,
    WorkCalendar,
    after_working_hours,
    calendar_of,
    civil_from,
    due,
)
from bot.pilots.period import parse_period, period_of
from bot.pilots.question import current_question_set
from bot.pilots.schedule import Slot, person_zone, personal_instant
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


class _Zones:
    """Each person's zone and the moments worked out for it, once per zone: ten thousand people
    live in a few dozen zones."""

    def __init__(self, pilot: Pilot) -> None:
        self.pilot = pilot
        self.calendar: WorkCalendar = calendar_of(pilot)
        self._zones: dict[str | None, str] = {}
        self._slots: dict[tuple[str, Slot, str], datetime] = {}

    def zone(self, timezone: str | None) -> str:
        if timezone not in self._zones:
            self._zones[timezone] = person_zone(timezone, self.pilot)
        return self._zones[timezone]

    def slot(self, timezone: str | None, slot: Slot, period: str) -> datetime:
        """The slot of `period` in that person's own zone."""
        key = (self.zone(timezone), slot, period)
        if key not in self._slots:
            self._slots[key] = personal_instant(self.pilot, slot, period, key[0])
        return self._slots[key]

    def due(
        self, timezone: str | None, slot: Slot | None, period: str, now: datetime
    ) -> datetime | None:
        """When that person's message goes out: at their slot, or (a slot that has passed, or
        none: sent by hand) as soon as it is civil in their zone. None when a round opened
        late (a clock that was down) would reach them only after its week has ended where
        they are: next week's round asks them instead, rather than two in a row."""
        zone = self.zone(timezone)
        if slot is None:
            return civil_from(now, zone, self.calendar)
        planned = self.slot(timezone, slot, period)
        at = due(planned, now, zone, self.calendar)
        if at > planned and period_of(at, zone) != period:
            return None
        return at


def earliest_slot(
    session: Session, pilot: Pilot, slot: Slot, period: str, now: datetime
) -> datetime | None:
    """When `slot` of `period` comes first, across the zones of the people who would get it
    (None when nobody would): the moment the round opens."""
    zones = session.exec(
        select(Participant.slack_tz)
        .where(Participant.pilot_id == pilot.id, *eligible(now))
        .distinct()
    ).all()
    if not zones:
        return None
    moments = _Zones(pilot)
    return min(moments.slot(timezone, slot, period) for timezone in zones)


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
    db: Database,
    pilot: Pilot,
    kind: str,
    now: datetime,
    *,
    close_after_days: int,
    period: str | None = None,
    slot: Slot | None = None,
) -> OpenedRound:
    """Open the round of `kind` for `period` (this period by default), or find the one already
    open.

    Deliveries go to everyone eligible at this moment, each due at `slot` in their own zone
    (or, with no slot, as soon as it is civil there: a round sent by hand); someone whose time
    would come only after the round closes (a holiday that runs to its end) is not asked this
    time. People who pause or stop later are skipped by the sender.
    """
    period = period or period_of(now, pilot.timezone)
    closes_at = now + timedelta(days=close_days(pilot, close_after_days))
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
                "closes_at": closes_at,
            },
            key=["pilot_id", "kind", "period"],
        )
        round_ = find_round(session, pilot.id, kind, period)
        assert round_ is not None
        if not created:
            return OpenedRound(round=round_, created=False)
        people = session.exec(
            select(Participant.id, Participant.slack_tz).where(
                Participant.pilot_id == pilot.id, *eligible(now)
            )
        ).all()
        zones = _Zones(pilot)
        dues = [(person, zones.due(timezone, slot, period, now)) for person, timezone in people]
        _add_deliveries(
            session,
            round_.id,
            [(p, at) for p, at in dues if at is not None and at < closes_at],
            Purpose.INVITE,
            now,
        )
    return OpenedRound(round=round_, created=True)


def _add_deliveries(
    session: Session,
    round_id: int,
    people: list[tuple[int, datetime]],
    purpose: str,
    now: datetime,
) -> int:
    """One delivery per person (and when it is due) for the round and purpose; returns how many
    were new."""
    added = 0
    for start in range(0, len(people), _CHUNK):
        added += insert_ignore(
            session,
            Delivery,
            [
                {
                    "round_id": round_id,
                    "participant_id": participant_id,
                    "purpose": purpose,
                    "due_at": due_at,
                    "created_at": now,
                    "updated_at": now,
                }
                for participant_id, due_at in people[start : start + _CHUNK]
            ],
            key=["round_id", "participant_id", "purpose"],
        )
    return added


def has_reminders(session: Session, round_id: int) -> bool:
    """True once the round's reminder has been set up (sent or still due)."""
    return (
        session.exec(
            select(Delivery.id)
            .where(Delivery.round_id == round_id, Delivery.purpose == Purpose.REMINDER)
            .limit(1)
        ).first()
        is not None
    )


def add_reminders(
    db: Database, pilot: Pilot, round_: Round, now: datetime, *, slot: Slot | None = None
) -> int:
    """Reminder deliveries for people who got the round (or are still to get it) and have not
    answered; at most one each, and never twice.

    Each is due at the reminder's `slot` in the person's own zone (with no slot: now, sent by
    hand), but never sooner than `REMINDER_GAP_HOURS` working hours after their pulse, and
    never in their quiet hours. The sender checks again, just before each goes out, that the
    person has not answered meanwhile and that their pulse did reach them.

    Returns how many reminders were added (0 when the reminder was set up before).
    """
    answered = exists().where(Answer.delivery_id == Delivery.id)
    zones = _Zones(pilot)
    with db.transaction() as session:
        invites = session.exec(
            select(Delivery.participant_id, Delivery.sent_at, Delivery.due_at, Participant.slack_tz)
            .join(Participant, Participant.id == Delivery.participant_id)
            .where(
                Delivery.round_id == round_.id,
                Delivery.purpose == Purpose.INVITE,
                Delivery.status.in_(
                    [DeliveryStatus.SENT, DeliveryStatus.PENDING, DeliveryStatus.SENDING]
                ),
                ~answered,
                *eligible(now),
            )
        ).all()
        people: list[tuple[int, datetime]] = []
        for participant_id, sent_at, due_at, timezone in invites:
            zone = zones.zone(timezone)
            pulse_at = sent_at or due_at or now
            at = max(
                zones.slot(timezone, slot, round_.period) if slot is not None else now,
                after_working_hours(pulse_at, REMINDER_GAP_HOURS, zone, zones.calendar),
                now,
            )
            at = civil_from(at, zone, zones.calendar)
            if at < round_.closes_at:
                people.append((participant_id, at))
        added = _add_deliveries(session, round_.id, people, Purpose.REMINDER, now)
    return added


def lapse_unsent(db: Database, now: datetime) -> int:
    """Mark skipped the deliveries still waiting when their round closed (their person's
    working hours never came while it was open): a message sent now could only be refused.
    Returns how many."""
    closed = select(Round.id).where(Round.closes_at <= now).scalar_subquery()
    with db.transaction() as session:
        lapsed = session.execute(
            update(Delivery)
            .where(Delivery.round_id.in_(closed), Delivery.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.SKIPPED, failure_reason="round closed", updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    return lapsed or 0
