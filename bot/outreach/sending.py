"""Sending a round: open this period's round of a kind for a pilot and deliver its messages
through the durable sender, or finish one that was interrupted. Pulses and check-ins both go
out this way; each brings its own message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient
from sqlmodel import func, select

from bot.outreach.delivery import Composer, Sender, SendOptions, SendProgress
from bot.outreach.round import open_round
from bot.pilots.pilot import get_pilot
from storage import Database
from storage.models import Delivery, DeliveryStatus, Pilot, Purpose, Round

ComposerFor = Callable[[Pilot, Round], Composer]


@dataclass
class SendResult:
    pilot: str
    period: str
    round_created: bool
    progress: SendProgress | None
    """None when there was nothing left to send."""
    note: str = ""
    already: bool = False  # nothing was sent because it had been sent before


def unsent(db: Database, round_id: int, purpose: str) -> int:
    """Deliveries of the round and purpose still waiting for a sender, or in flight."""
    with db.session() as session:
        return session.exec(
            select(func.count()).where(
                Delivery.round_id == round_id,
                Delivery.purpose == purpose,
                Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]),
            )
        ).one()


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
    kind: str,
    composer_for: ComposerFor,
    *,
    now: datetime,
    options: SendOptions,
    on_progress: Callable[[SendProgress], None] | None = None,
) -> SendResult:
    """Open this period's round of `kind` and deliver it; a second call in the same period
    sends nothing new and says so, unless the first was interrupted, which it finishes.

    `client` must leave 429s to the sender (no rate-limit retry handler).
    """
    with db.session() as session:
        pilot = get_pilot(session, pilot_name)
    opened = open_round(db, pilot, kind, now, close_after_days=options.round_close_days)
    round_ = opened.round
    if not opened.created and round_.closes_at <= now:
        # Its answers are closed: a message sent now could only be refused.
        return SendResult(
            pilot.name,
            round_.period,
            round_created=False,
            progress=None,
            note=f"the {kind} for {round_.period} closed on {round_.closes_at:%a %d %b}; nothing was sent",
        )
    if not opened.created and unsent(db, round_.id, Purpose.INVITE) == 0:
        return SendResult(
            pilot.name,
            round_.period,
            round_created=False,
            progress=None,
            note=f"the {kind} for {round_.period} went out on {round_.opened_at:%a %d %b}; nothing new was sent",
        )
    progress = deliver(
        db, client, composer_for(pilot, round_), round_, Purpose.INVITE, options, on_progress
    )
    note = (
        ""
        if opened.created
        else f"finished the {kind} for {round_.period} that had been interrupted"
    )
    return SendResult(pilot.name, round_.period, opened.created, progress, note)
