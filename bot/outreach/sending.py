"""Sending a round: open a pulse or check-in for a pilot and deliver its messages through the
durable sender, or finish one that was interrupted. The reminder is `reminder`.

By hand (`send_round`), a round opens now and each person's message goes out as soon as it is
civil in their zone; on the clock (`open_on_schedule`, then `send_due`), a round opens when its
slot comes in the earliest zone and each message goes out at that person's own slot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from slack_sdk import WebClient

from bot.errors import PulseError
from bot.outreach.compose import composer_for
from bot.outreach.delivery import (
    WAITING,
    Composer,
    Sender,
    SendOptions,
    SendProgress,
    status_counts,
)
from bot.outreach.round import earliest_slot, find_round, open_round
from bot.pilots.pilot import get_pilot
from bot.pilots.schedule import Slot
from storage import Database
from storage.models import DeliveryStatus, Pilot, Purpose, Round, RoundKind


@dataclass
class SendResult:
    pilot: str
    period: str
    round_created: bool  # this call opened the round
    progress: SendProgress | None
    """None when there was nothing left to send."""
    note: str = ""
    already: bool = False  # nothing was sent because it had been sent before


def unsent(db: Database, round_id: int, purpose: str, due_by: datetime | None = None) -> int:
    """Deliveries of the round and purpose still waiting for a sender, or in flight; with
    `due_by`, only those due by then."""
    with db.session() as session:
        counts = status_counts(session, round_id, purpose, due_by)
    return counts[DeliveryStatus.PENDING] + counts[DeliveryStatus.SENDING]


def waiting(db: Database, round_id: int, purpose: str, now: datetime) -> int:
    """Deliveries of the round and purpose not yet due: each goes out at its person's time."""
    with db.session() as session:
        return status_counts(session, round_id, purpose, now)[WAITING]


def deliver(
    db: Database,
    client: WebClient,
    compose: Composer,
    round_: Round,
    purpose: str,
    options: SendOptions,
    on_progress: Callable[[SendProgress], None] | None,
    due_by: datetime,
) -> SendProgress:
    """Send the round's messages of `purpose` that are due by `due_by`."""
    sender = Sender(db, client, compose, options=options, on_progress=on_progress)
    return sender.run(round_.id, purpose, due_by)


def send_round(
    db: Database,
    client: WebClient,
    pilot_name: str,
    *,
    kind: RoundKind,
    now: datetime,
    options: SendOptions,
    on_progress: Callable[[SendProgress], None] | None = None,
) -> SendResult:
    """Open this period's round of `kind` now, by hand, and deliver it: each person's message
    goes out at once, or (in their quiet hours, on a day off) when their working hours begin,
    from the clock. A second call in the same period sends nothing new and says so, unless the
    first was interrupted, which it finishes.

    `client` must have no retry handlers: the sender retries each call itself, through its
    pacer (`build_client(settings, retries=False)`).
    """
    with db.session() as session:
        pilot = get_pilot(session, pilot_name)
    if pilot.ended_at is not None:
        raise PulseError(f"pilot {pilot.name!r} has ended; nothing is sent for it any more")
    opened = open_round(db, pilot, kind, now, close_after_days=options.round_close_days)
    round_ = opened.round
    nothing = None
    if not opened.created and round_.closes_at <= now:
        # Its answers are closed: a message sent now could only be refused.
        nothing = f"closed on {round_.closes_at:%a %d %b}; nothing was sent"
    elif not opened.created and unsent(db, round_.id, Purpose.INVITE, now) == 0:
        nothing = f"went out on {round_.opened_at:%a %d %b}; nothing new was sent"
        later = waiting(db, round_.id, Purpose.INVITE, now)
        if later:
            nothing += f" ({later} more go out in their own working hours)"
    if nothing is not None:
        return SendResult(
            pilot.name, round_.period, False, None, f"the {kind} for {round_.period} {nothing}"
        )
    compose = composer_for(db, pilot, round_)
    progress = deliver(db, client, compose, round_, Purpose.INVITE, options, on_progress, now)
    note = (
        ""
        if opened.created
        else f"finished the {kind} for {round_.period} that had been interrupted"
    )
    return SendResult(pilot.name, round_.period, opened.created, progress, note)


def open_on_schedule(
    db: Database,
    pilot: Pilot,
    kind: RoundKind,
    slot: Slot,
    period: str,
    now: datetime,
    options: SendOptions,
) -> Round | None:
    """Open the round of `kind` for `period` once its slot has come in the earliest zone of
    the people who get it, each person's message due at their own slot; the round when it is
    (or was already) open, else None.

    A period whose slot came, in that earliest zone, before the pilot was created is left out:
    a pilot created on Thursday gets its first pulse next week, or when an operator sends one.
    """
    with db.session() as session:
        round_ = find_round(session, pilot.id, kind, period)
        if round_ is not None:
            return round_
        first = earliest_slot(session, pilot, slot, period, now)
    if first is None or first > now or first < pilot.created_at:
        return None
    opened = open_round(
        db,
        pilot,
        kind,
        now,
        close_after_days=options.round_close_days,
        period=period,
        slot=slot,
    )
    return opened.round


def send_due(
    db: Database,
    client: WebClient,
    pilot: Pilot,
    round_: Round,
    purpose: str,
    now: datetime,
    options: SendOptions,
) -> SendProgress | None:
    """Send the round's messages of `purpose` that are due by `now` (None: none was)."""
    if unsent(db, round_.id, purpose, now) == 0:
        return None
    return deliver(db, client, composer_for(db, pilot, round_), round_, purpose, options, None, now)


# The two rounds a pilot has each week.
send_pulse = partial(send_round, kind=RoundKind.PULSE)
send_checkins = partial(send_round, kind=RoundKind.CHECKIN)
