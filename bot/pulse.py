"""The weekly pulse: open this period's round, send it, remind those who have not answered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient
from sqlmodel import func, select

from bot.delivery import Composer, Outbound, Sender, SendOptions, SendProgress
from bot.errors import PulseError
from bot.periods import period_of, zone
from bot.pilots import get_pilot
from bot.pulse_views import SurveyContext, invite_blocks, invite_text
from bot.questions import questions_of
from bot.rounds import add_reminders, find_round, open_round
from storage import Database
from storage.models import Delivery, DeliveryStatus, Pilot, Purpose, Round, RoundKind


@dataclass
class SendResult:
    pilot: str
    period: str
    round_created: bool
    progress: SendProgress | None
    """None when there was nothing left to send."""
    note: str = ""


def pulse_composer(pilot: Pilot, round_: Round, questions: tuple) -> Composer:
    """Renders the pulse DM (or its reminder) for one person."""

    def compose(item: Outbound) -> dict:
        try:
            local = zone(item.slack_tz) if item.slack_tz else zone(pilot.timezone)
        except ValueError:
            local = zone(pilot.timezone)
        context = SurveyContext(
            delivery_id=item.invite_delivery_id,
            tool=pilot.tool,
            min_group_size=pilot.min_group_size,
            closes_at=round_.closes_at,
            questions=questions,
            local_zone=local,
        )
        return {
            "text": invite_text(context),
            "blocks": invite_blocks(
                context, item.first_name, reminder=item.purpose == Purpose.REMINDER
            ),
            "unfurl_links": False,
        }

    return compose


def unsent(db: Database, round_id: int, purpose: str) -> int:
    with db.session() as session:
        return session.exec(
            select(func.count()).where(
                Delivery.round_id == round_id,
                Delivery.purpose == purpose,
                Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]),
            )
        ).one()


def _questions(db: Database, round_: Round) -> tuple:
    with db.session() as session:
        questions = (
            tuple(questions_of(session, round_.question_set_id)) if round_.question_set_id else ()
        )
    if not questions:
        raise PulseError(
            "the pilot has no questions; import some with `pilot-pulse questions import`"
        )
    return questions


def _deliver(
    db: Database,
    client: WebClient,
    pilot: Pilot,
    round_: Round,
    purpose: str,
    options: SendOptions,
    on_progress: Callable[[SendProgress], None] | None,
) -> SendProgress:
    compose = pulse_composer(pilot, round_, _questions(db, round_))
    sender = Sender(db, client, compose, options=options, on_progress=on_progress)
    return sender.run(round_.id, purpose)


def send_pulse(
    db: Database,
    client: WebClient,
    pilot_name: str,
    *,
    now: datetime,
    options: SendOptions,
    on_progress: Callable[[SendProgress], None] | None = None,
) -> SendResult:
    """Open this period's pulse for the pilot and deliver it; finish an interrupted one.

    `client` must leave 429s to the sender (no rate-limit retry handler). A second call in the
    same period sends nothing new and says so.
    """
    with db.session() as session:
        pilot = get_pilot(session, pilot_name)
    opened = open_round(db, pilot, RoundKind.PULSE, now, close_after_days=options.round_close_days)
    round_ = opened.round
    if not opened.created and unsent(db, round_.id, Purpose.INVITE) == 0:
        return SendResult(
            pilot.name,
            round_.period,
            round_created=False,
            progress=None,
            note=f"the pulse for {round_.period} went out on {round_.opened_at:%a %d %b}; nothing new was sent",
        )
    progress = _deliver(db, client, pilot, round_, Purpose.INVITE, options, on_progress)
    note = (
        ""
        if opened.created
        else f"finished the pulse for {round_.period} that had been interrupted"
    )
    return SendResult(pilot.name, round_.period, opened.created, progress, note)


def send_reminder(
    db: Database,
    client: WebClient,
    pilot_name: str,
    *,
    now: datetime,
    options: SendOptions,
    on_progress: Callable[[SendProgress], None] | None = None,
) -> SendResult:
    """Remind, once per round, the people who got this period's pulse and have not answered."""
    with db.session() as session:
        pilot = get_pilot(session, pilot_name)
        period = period_of(now, pilot.timezone)
        round_ = find_round(session, pilot.id, RoundKind.PULSE, period)
    if round_ is None:
        raise PulseError(
            f"no pulse has gone out for {period}; send one with `pilot-pulse pulse send {pilot.name}`"
        )
    if round_.closes_at <= now:
        raise PulseError(
            f"the pulse for {period} closed on {round_.closes_at:%a %d %b}; no reminder sent"
        )
    added = add_reminders(db, round_, now)
    if added == 0 and unsent(db, round_.id, Purpose.REMINDER) == 0:
        with db.session() as session:
            reminded = session.exec(
                select(func.count()).where(
                    Delivery.round_id == round_.id, Delivery.purpose == Purpose.REMINDER
                )
            ).one()
        note = (
            f"the reminder for {period} was sent already; nobody is reminded twice"
            if reminded
            else f"everyone who got the pulse for {period} has answered (or paused); no reminder needed"
        )
        return SendResult(pilot.name, period, round_created=False, progress=None, note=note)
    progress = _deliver(db, client, pilot, round_, Purpose.REMINDER, options, on_progress)
    return SendResult(pilot.name, period, round_created=added > 0, progress=progress)
