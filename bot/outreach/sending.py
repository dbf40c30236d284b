"""Sending a round: open this period's pulse or check-in for a pilot and deliver its messages
through the durable sender, or finish one that was interrupted. The reminder is `reminder`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from slack_sdk import WebClient

from bot.errors import PulseError
from bot.outreach.compose import composer_for
from bot.outreach.delivery import Composer, Sender, SendOptions, SendProgress, status_counts
from bot.outreach.round import open_round
from bot.pilots.pilot import get_pilot
from storage import Database
from storage.models import DeliveryStatus, Purpose, Round, RoundKind


@dataclass
class SendResult:
    pilot: str
    period: str
    round_created: bool  # this call opened the round
    progress: SendProgress | None
    """None when there was nothing left to send."""
    note: str = ""
    already: bool = False  # nothing was sent because it had been sent before


def unsent(db: Database, round_id: int, purpose: str) -> int:
    """Deliveries of the round and purpose still waiting for a sender, or in flight."""
    with db.session() as session:
        counts = status_counts(session, round_id, purpose)
    return counts[DeliveryStatus.PENDING] + counts[DeliveryStatus.SENDING]


def deliver(
    db: Database,
    client: WebClient,
    compose: Composer,
    round_: Round,
    purpose: str,
    options: SendOptions,
    on_progress: Callable[[SendProgress], None] | None,
) -> SendProgress:
    sender = Sender(db, client, compose, options=options, on_progress=on_progress)
    return sender.run(round_.id, purpose)


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
    """Open this period's round of `kind` and deliver it; a second call in the same period
    sends nothing new and says so, unless the first was interrupted, which it finishes.

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
    elif not opened.created and unsent(db, round_.id, Purpose.INVITE) == 0:
        nothing = f"went out on {round_.opened_at:%a %d %b}; nothing new was sent"
    if nothing is not None:
        return SendResult(
            pilot.name, round_.period, False, None, f"the {kind} for {round_.period} {nothing}"
        )
    compose = composer_for(db, pilot, round_)
    progress = deliver(db, client, compose, round_, Purpose.INVITE, options, on_progress)
    note = (
        ""
        if opened.created
        else f"finished the {kind} for {round_.period} that had been interrupted"
    )
    return SendResult(pilot.name, round_.period, opened.created, progress, note)


# The two rounds a pilot has each week.
send_pulse = partial(send_round, kind=RoundKind.PULSE)
send_checkins = partial(send_round, kind=RoundKind.CHECKIN)
