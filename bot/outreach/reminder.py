"""The pulse's one reminder per round, to those who got it and have not answered, each in their
own working hours and at least 20 working hours after their pulse."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from slack_sdk import WebClient
from sqlmodel import func, select

from bot.errors import PulseError
from bot.outreach.compose import composer_for
from bot.outreach.delivery import SendOptions, SendProgress
from bot.outreach.round import add_reminders, current_period, find_round
from bot.outreach.sending import SendResult, deliver, unsent, waiting
from bot.pilots.pilot import get_pilot
from storage import Database
from storage.models import Delivery, Purpose, RoundKind


def send_reminder(
    db: Database,
    client: WebClient,
    pilot_name: str,
    *,
    now: datetime,
    options: SendOptions,
    on_progress: Callable[[SendProgress], None] | None = None,
) -> SendResult:
    """Remind, once per round, the people who got this period's pulse and have not answered:
    by hand, so each reminder is due now, or as soon as the person's quiet hours and the gap
    after their pulse allow (the clock sends those)."""
    with db.session() as session:
        pilot = get_pilot(session, pilot_name)
        period = current_period(session, pilot, RoundKind.PULSE, now)
        round_ = find_round(session, pilot.id, RoundKind.PULSE, period)
    if round_ is None:
        raise PulseError(
            f"no pulse has gone out for {period}; send one with `pilot-pulse pulse send {pilot.name}`"
        )
    if round_.closes_at <= now:
        raise PulseError(
            f"the pulse for {period} closed on {round_.closes_at:%a %d %b}; no reminder sent"
        )
    added = add_reminders(db, pilot, round_, now)
    if added == 0 and unsent(db, round_.id, Purpose.REMINDER, now) == 0:
        with db.session() as session:
            reminded = session.exec(
                select(func.count()).where(
                    Delivery.round_id == round_.id, Delivery.purpose == Purpose.REMINDER
                )
            ).one()
        later = waiting(db, round_.id, Purpose.REMINDER, now)
        note = (
            f"the reminder for {period} was set up already ({later} still go out in their own "
            "working hours); nobody is reminded twice"
            if later
            else f"the reminder for {period} was sent already; nobody is reminded twice"
            if reminded
            else f"everyone who got the pulse for {period} has answered (or paused); no reminder needed"
        )
        return SendResult(
            pilot.name,
            period,
            round_created=False,
            progress=None,
            note=note,
            already=bool(reminded),
        )
    compose = composer_for(db, pilot, round_)
    progress = deliver(db, client, compose, round_, Purpose.REMINDER, options, on_progress, now)
    return SendResult(pilot.name, period, round_created=added > 0, progress=progress)
