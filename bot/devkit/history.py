"""Weeks of a pilot's past, simulated: a pulse sent through the real sender against the Slack
stand-in, answers stored as the app stores them, comments analysed. For the demo, the tests and
the benchmarks, so that trends and digests have something to show."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from slack_sdk import WebClient
from sqlalchemy import update
from sqlmodel import select

from bot.analysis.analyzer import Analyzer
from bot.analysis.queue import run
from bot.outreach.delivery import SendOptions
from bot.outreach.round import find_round
from bot.outreach.sending import send_pulse
from bot.pilots.period import period_of
from bot.pilots.pilot import get_pilot
from bot.pilots.question import questions_of
from bot.pulse.answer import AnswerOutcome, record_answers
from storage import Database
from storage.models import Delivery, Participant, Pilot, Purpose, RoundKind

Answers = Mapping[str, Mapping[str, float | str]]


def backdate_pilot(db: Database, pilot_name: str, started: datetime) -> None:
    """Make the pilot look as if it started at `started` (so that past weeks are its own)."""
    with db.transaction() as session:
        session.execute(
            update(Pilot)
            .where(Pilot.name == pilot_name)
            .values(created_at=started)
            .execution_options(synchronize_session=False)
        )


def simulate_week(
    db: Database,
    client: WebClient,
    pilot_name: str,
    when: datetime,
    answers: Answers,
    analyzer: Analyzer,
    *,
    options: SendOptions | None = None,
) -> str:
    """Send the pulse of the week of `when` and store `answers` (Slack user id → question key →
    value or words), an hour later, from those the pulse reached (a person paused or stopped
    gets none, and so answers nothing); returns the period."""
    options = options or SendOptions(concurrency=8, rate=1000)
    send_pulse(db, client, pilot_name, now=when, options=options)
    with db.session() as session:
        pilot = get_pilot(session, pilot_name)
        period = period_of(when, pilot.timezone)
        round_ = find_round(session, pilot.id, RoundKind.PULSE, period)
        assert round_ is not None and round_.question_set_id is not None
        by_key = {q.key: q.id for q in questions_of(session, round_.question_set_id)}
        deliveries = dict(
            session.exec(
                select(Participant.slack_user_id, Delivery.id)
                .join(Delivery, Delivery.participant_id == Participant.id)
                .where(Delivery.round_id == round_.id, Delivery.purpose == Purpose.INVITE)
            ).all()
        )
    analysis_ids: list[int] = []
    for user_id, values in answers.items():
        if user_id not in deliveries:
            continue
        recorded = record_answers(
            db,
            deliveries[user_id],
            user_id,
            {by_key[key]: value for key, value in values.items()},
            when + timedelta(hours=1),
        )
        if recorded.outcome != AnswerOutcome.RECORDED:
            raise RuntimeError(f"{user_id}'s answers were not stored: {recorded.outcome}")
        analysis_ids += recorded.analysis_ids
    run(db, analyzer, analysis_ids)
    return period
