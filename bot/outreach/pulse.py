"""The weekly pulse: open this period's round, send it, remind those who have not answered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from slack_sdk import WebClient
from sqlmodel import func, select

from bot.errors import PulseError
from bot.outreach.delivery import Composer, Outbound, SendOptions, SendProgress
from bot.outreach.round import add_reminders, current_period, find_round
from bot.outreach.sending import ComposerFor, SendResult, deliver, send_round, unsent
from bot.pilots.period import zone
from bot.pilots.pilot import get_pilot
from bot.pilots.question import questions_of
from bot.views.pulse import SurveyContext, invite_blocks, invite_text
from storage import Database
from storage.models import Delivery, Pilot, Purpose, Round, RoundKind


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


def _composer(db: Database) -> ComposerFor:
    def composer_for(pilot: Pilot, round_: Round) -> Composer:
        return pulse_composer(pilot, round_, _questions(db, round_))

    return composer_for


def send_pulse(
    db: Database,
    client: WebClient,
    pilot_name: str,
    *,
    now: datetime,
    options: SendOptions,
    on_progress: Callable[[SendProgress], None] | None = None,
) -> SendResult:
    """Open this period's pulse for the pilot and deliver it; finish an interrupted one."""
    return send_round(
        db,
        client,
        pilot_name,
        RoundKind.PULSE,
        _composer(db),
        now=now,
        options=options,
        on_progress=on_progress,
    )


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
        return SendResult(
            pilot.name,
            period,
            round_created=False,
            progress=None,
            note=note,
            already=bool(reminded),
        )
    compose = _composer(db)(pilot, round_)
    progress = deliver(db, client, compose, round_, Purpose.REMINDER, options, on_progress)
    return SendResult(pilot.name, period, round_created=added > 0, progress=progress)
