"""The bot's turn in a check-in: at most two follow-ups that dig into what was said, then thanks
and a one-line recap.

A turn is decided and written down (as a message with no Slack ts yet, with the check-in's new
state) in one transaction, then posted. A crash or a failed post leaves the unposted message,
which the clock posts later: no turn is lost, and none is decided twice. Check-ins end with
their round.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.client import HTTPException

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import delete, func, update
from sqlmodel import Session, select

from bot.analysis.analyzer import Analyzer, TextAnalysis, Turn
from bot.analysis.queue import checkin_analysis, run
from bot.outreach.failures import PERMANENT_ERRORS
from bot.pilots.participant import first_name
from bot.privacy.names import workspace_scrubber
from bot.views.checkin import closing_text, message_kwargs
from storage import Database
from storage.models import (
    Checkin,
    CheckinMessage,
    CheckinStatus,
    MessageAuthor,
    Participant,
    Round,
    RoundKind,
)

log = logging.getLogger(__name__)

MAX_FOLLOWUPS = 2


@dataclass
class BotTurn:
    checkin_id: int
    message_id: int
    text: str


def _conversation(session: Session, checkin_id: int) -> list[Turn]:
    rows = session.exec(
        select(CheckinMessage.author, CheckinMessage.text_scrubbed)
        .where(CheckinMessage.checkin_id == checkin_id)
        .order_by(CheckinMessage.created_at, CheckinMessage.id)
    ).all()
    return [Turn(author, text or "") for author, text in rows]


def take_turn(db: Database, analyzer: Analyzer, checkin_id: int, now: datetime) -> BotTurn | None:
    """Decide the bot's next message in a check-in, a follow-up or the closing thanks, and
    write it down to be posted.

    The decision covers every reply stored so far and is taken once however many workers try
    (`answered_turns`): two quick messages get one answer when the turn is taken after both.
    """
    for _ in range(3):
        with db.session() as session:
            checkin = session.get(Checkin, checkin_id)
            if checkin is None or checkin.status != CheckinStatus.OPEN:
                return None
            participant = session.get(Participant, checkin.participant_id)
            turns = _conversation(session, checkin_id)
            replies = sum(1 for turn in turns if turn.author == MessageAuthor.PARTICIPANT)
            if checkin.answered_turns >= replies or participant is None:
                return None
            seen = checkin.answered_turns
            analysis_row = checkin_analysis(session, checkin_id)
        # The conversation's analysis is brought up to date first: it feeds the question and
        # the recap. Model calls happen here, outside any transaction.
        results = run(db, analyzer, [analysis_row.id]) if analysis_row is not None else []
        analysis = results[0] if results else TextAnalysis(0.0, "neutral", ["other"])
        number = checkin.followups_asked + 1
        question = (
            analyzer.followup(turns, analysis, number, seed=checkin_id)
            if number <= MAX_FOLLOWUPS
            else None
        )
        if question is not None:
            text, generator, prompt_version = (
                question.text,
                question.generator,
                question.prompt_version,
            )
        else:
            text = closing_text(
                first_name(participant.real_name, participant.display_name), analysis.summary
            )
            # The recap is the analysis's summary: it was written by the analyzer.
            generator, prompt_version = analysis.analyzer, analysis.prompt_version
        with db.transaction() as session:
            taken = session.execute(
                update(Checkin)
                .where(
                    Checkin.id == checkin_id,
                    Checkin.answered_turns == seen,
                    Checkin.status == CheckinStatus.OPEN,
                )
                .values(
                    answered_turns=replies,
                    followups_asked=Checkin.followups_asked + (1 if question else 0),
                    status=CheckinStatus.OPEN if question else CheckinStatus.CLOSED,
                    closed_at=None if question else now,
                    summary=None if question else analysis.summary,
                    last_activity_at=now,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            if taken:
                pending = CheckinMessage(
                    checkin_id=checkin_id,
                    author=MessageAuthor.BOT,
                    slack_ts=None,  # not in Slack yet
                    # The words to post, with the person's name, until they are posted.
                    text_raw=text,
                    text_scrubbed=workspace_scrubber(session).scrub(text),
                    generator=generator,
                    prompt_version=prompt_version,
                    created_at=now,
                )
                session.add(pending)
                session.flush()
                return BotTurn(checkin_id, pending.id, text)
        # Another worker took this turn in the meantime; look again.
    return None


def post_turn(
    db: Database, client: WebClient, message_id: int, *, thread_ts: str | None = None
) -> bool:
    """Post a pending bot message; True once it is in Slack. A message Slack refuses for good
    (the person is gone, the DM closed) ends the check-in; any other failure is left for the
    clock to post again."""
    with db.session() as session:
        row = session.exec(
            select(CheckinMessage, Checkin)
            .join(Checkin, Checkin.id == CheckinMessage.checkin_id)
            .where(CheckinMessage.id == message_id)
        ).first()
    if row is None:
        return False
    message, checkin = row
    if message.slack_ts is not None or not message.text_raw or not checkin.channel_id:
        return False
    try:
        posted = client.chat_postMessage(
            channel=checkin.channel_id, **message_kwargs(message.text_raw, thread_ts)
        )
    except SlackApiError as exc:
        error = str(exc.response.get("error")) if exc.response is not None else "no_response"
        if error in PERMANENT_ERRORS:
            log.warning("check-in %s ended: Slack refuses to post (%s)", checkin.id, error)
            with db.transaction() as session:
                session.execute(delete(CheckinMessage).where(CheckinMessage.id == message_id))
                session.execute(
                    update(Checkin)
                    .where(Checkin.id == checkin.id)
                    .values(status=CheckinStatus.EXPIRED)
                    .execution_options(synchronize_session=False)
                )
        else:
            log.warning(
                "could not post to check-in %s (%s); the clock tries again", checkin.id, error
            )
        return False
    except (OSError, HTTPException) as exc:
        log.warning(
            "could not reach Slack for check-in %s (%s); the clock tries again", checkin.id, exc
        )
        return False
    with db.transaction() as session:
        session.execute(
            update(CheckinMessage)
            .where(CheckinMessage.id == message_id)
            .values(slack_ts=posted["ts"], text_raw=None)
            .execution_options(synchronize_session=False)
        )
    return True


def answer(
    db: Database,
    analyzer: Analyzer,
    client: WebClient,
    checkin_id: int,
    now: Callable[[], datetime],
    *,
    thread_ts: str | None = None,
) -> BotTurn | None:
    """Take the bot's turn in a check-in and post it."""
    turn = take_turn(db, analyzer, checkin_id, now())
    if turn is not None:
        post_turn(db, client, turn.message_id, thread_ts=thread_ts)
    return turn


def unanswered(db: Database, now: datetime, *, quiet: float = 60.0) -> tuple[list[int], list[int]]:
    """What the clock must still do, `quiet` seconds on: bot messages written down but never
    posted (a crash, a failed post), and replies no turn was taken for (a crash before it)."""
    cutoff = now - timedelta(seconds=quiet)
    replies = (
        select(func.count())
        .where(
            CheckinMessage.checkin_id == Checkin.id,
            CheckinMessage.author == MessageAuthor.PARTICIPANT,
        )
        .scalar_subquery()
    )
    with db.session() as session:
        pending = session.exec(
            select(CheckinMessage.id)
            .join(Checkin, Checkin.id == CheckinMessage.checkin_id)
            .where(
                CheckinMessage.author == MessageAuthor.BOT,
                CheckinMessage.slack_ts.is_(None),
                CheckinMessage.created_at <= cutoff,
                Checkin.status != CheckinStatus.EXPIRED,
            )
            .order_by(CheckinMessage.id)
        ).all()
        untaken = session.exec(
            select(Checkin.id).where(
                Checkin.status == CheckinStatus.OPEN,
                Checkin.answered_turns < replies,
                Checkin.last_activity_at <= cutoff,
            )
        ).all()
    return list(pending), list(untaken)


def expire(db: Database, now: datetime) -> int:
    """Close the check-ins whose round has closed without the conversation finishing."""
    with db.transaction() as session:
        rounds = select(Round.id).where(Round.kind == RoundKind.CHECKIN, Round.closes_at <= now)
        return session.execute(
            update(Checkin)
            .where(
                Checkin.status == CheckinStatus.OPEN, Checkin.round_id.in_(rounds.scalar_subquery())
            )
            .values(status=CheckinStatus.EXPIRED, closed_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
