"""Check-ins: a short DM conversation with each participant about the tool and their workflow.

The opening question goes out as a round, like the pulse. Each reply is stored (scrubbed for
reporting, raw for the person's own view) before anything else happens; then the bot takes its
turn: at most two follow-ups that dig into what was said, then thanks and a one-line recap. The
conversation's state lives in the database, so a reply hours later still joins the check-in.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import func, update
from sqlmodel import Session, select

from bot.analyses import CHECKIN, checkin_analysis, enqueue, run
from bot.analysis import Analyzer, TextAnalysis, Turn
from bot.checkin_views import closing_text, message_kwargs, opener_blocks, opener_text
from bot.delivery import Composer, Outbound, SendOptions, SendProgress
from bot.events import mark_handled
from bot.outreach import SendResult, send_round
from bot.participants import workspace_scrubber
from storage import Database
from storage.models import (
    Checkin,
    CheckinMessage,
    CheckinStatus,
    Delivery,
    DeliveryStatus,
    Participant,
    Pilot,
    Purpose,
    Round,
    RoundKind,
)
from storage.upsert import insert_ignore

log = logging.getLogger(__name__)

PARTICIPANT = "participant"
BOT = "bot"
MAX_FOLLOWUPS = 2


def checkin_composer(pilot: Pilot, round_: Round) -> Composer:
    def compose(item: Outbound) -> dict:
        return {
            "text": opener_text(pilot.tool, item.first_name, pilot.workflow).replace("*", ""),
            "blocks": opener_blocks(
                pilot.tool, item.first_name, pilot.workflow, pilot.min_group_size, item.delivery_id
            ),
            "unfurl_links": False,
        }

    return compose


def send_checkins(
    db: Database,
    client: WebClient,
    pilot_name: str,
    *,
    now: datetime,
    options: SendOptions,
    on_progress: Callable[[SendProgress], None] | None = None,
) -> SendResult:
    """Open this period's check-in for the pilot and send its opening question to everyone."""
    return send_round(
        db,
        client,
        pilot_name,
        RoundKind.CHECKIN,
        checkin_composer,
        now=now,
        options=options,
        on_progress=on_progress,
    )


# -- replies ----------------------------------------------------------------------------------


@dataclass
class Reply:
    """What became of a DM from a person."""

    outcome: str  # "stored", "duplicate", "no_checkin"
    checkin_id: int | None = None
    pilot: str | None = None
    tool: str | None = None
    participant_id: int | None = None


def _open_delivery(
    session: Session, slack_user_id: str, now: datetime, thread_ts: str | None = None
) -> tuple[Delivery, Participant, Pilot, Round] | None:
    """The person's check-in message that still takes replies: the one whose thread they
    replied in, else their latest (someone in two pilots may have two open)."""
    if thread_ts:
        found = _open_deliveries(slack_user_id, now).where(Delivery.message_ts == thread_ts)
        in_thread = session.exec(found.limit(1)).first()
        if in_thread is not None:
            return in_thread
    return session.exec(_open_deliveries(slack_user_id, now).limit(1)).first()


def _open_deliveries(slack_user_id: str, now: datetime) -> Any:
    return (
        select(Delivery, Participant, Pilot, Round)
        .join(Participant, Participant.id == Delivery.participant_id)
        .join(Round, Round.id == Delivery.round_id)
        .join(Pilot, Pilot.id == Round.pilot_id)
        .where(
            Participant.slack_user_id == slack_user_id,
            Participant.opted_out_at.is_(None),
            Round.kind == RoundKind.CHECKIN,
            Round.closes_at > now,
            Delivery.purpose == Purpose.INVITE,
            Delivery.status == DeliveryStatus.SENT,
        )
        .order_by(Delivery.sent_at.desc(), Delivery.id.desc())
    )


def _any_membership(session: Session, slack_user_id: str) -> tuple[Participant, Pilot] | None:
    return session.exec(
        select(Participant, Pilot)
        .join(Pilot, Pilot.id == Participant.pilot_id)
        .where(Participant.slack_user_id == slack_user_id)
        .order_by(Participant.joined_at.desc())
        .limit(1)
    ).first()


def record_reply(
    db: Database,
    *,
    slack_user_id: str,
    channel_id: str,
    ts: str,
    text: str,
    event_id: str | None,
    now: datetime,
    thread_ts: str | None = None,
) -> Reply:
    """Store a person's DM in their open check-in, once, however often Slack sends it.

    The event id and the message are written in one transaction, with the analysis queued: a
    crash leaves either nothing (and Slack's retry does it all) or everything.
    """
    with db.transaction() as session:
        if not mark_handled(session, event_id):
            return Reply("duplicate")
        found = _open_delivery(session, slack_user_id, now, thread_ts)
        if found is None:
            membership = _any_membership(session, slack_user_id)
            if membership is None:
                return Reply("no_checkin")
            participant, pilot = membership
            return Reply(
                "no_checkin", pilot=pilot.name, tool=pilot.tool, participant_id=participant.id
            )
        delivery, participant, pilot, round_ = found
        insert_ignore(
            session,
            Checkin,
            {
                "delivery_id": delivery.id,
                "round_id": round_.id,
                "participant_id": participant.id,
                "channel_id": channel_id,
                "started_at": now,
                "last_activity_at": now,
            },
            key=["delivery_id"],
        )
        checkin = session.exec(select(Checkin).where(Checkin.delivery_id == delivery.id)).one()
        if checkin.status != CheckinStatus.OPEN:
            return Reply(
                "no_checkin", pilot=pilot.name, tool=pilot.tool, participant_id=participant.id
            )
        text = text.strip()[:4000]
        stored = insert_ignore(
            session,
            CheckinMessage,
            {
                "checkin_id": checkin.id,
                "author": PARTICIPANT,
                "slack_ts": ts,
                "text_raw": text,
                "text_scrubbed": workspace_scrubber(session).scrub(text),
                "created_at": now,
            },
            key=["checkin_id", "author", "slack_ts"],
        )
        if not stored:
            return Reply("duplicate", checkin.id, pilot.name, pilot.tool, participant.id)
        session.execute(
            update(Checkin)
            .where(Checkin.id == checkin.id)
            .values(last_activity_at=now, channel_id=channel_id)
            .execution_options(synchronize_session=False)
        )
        enqueue(
            session, CHECKIN, checkin.id, round_id=round_.id, participant_id=participant.id, now=now
        )
    return Reply("stored", checkin.id, pilot.name, pilot.tool, participant.id)


# -- the bot's turn ---------------------------------------------------------------------------


@dataclass
class BotTurn:
    checkin_id: int
    text: str
    closing: bool
    channel_id: str | None
    seen: int  # replies answered before this turn
    replies: int  # replies this turn answers
    generator: str = "local"
    prompt_version: str | None = None


def _conversation(session: Session, checkin_id: int) -> list[Turn]:
    rows = session.exec(
        select(CheckinMessage.author, CheckinMessage.text_scrubbed)
        .where(CheckinMessage.checkin_id == checkin_id)
        .order_by(CheckinMessage.created_at, CheckinMessage.id)
    ).all()
    return [Turn(author, text or "") for author, text in rows]


def _first_name(participant: Participant) -> str | None:
    return (participant.display_name or (participant.real_name or "").split(" ")[0]) or None


def take_turn(
    db: Database, analyzer: Analyzer, checkin_id: int, now: datetime, *, settle: float = 0.0
) -> BotTurn | None:
    """Decide the bot's next message in a check-in: a follow-up, or the closing thanks.

    `settle` waits a moment first, so that a person who sends two quick messages gets one
    answer. The decision is taken once per reply however many workers try (`answered_turns`).
    """
    if settle:
        time.sleep(settle)
    for _ in range(3):
        with db.session() as session:
            checkin = session.get(Checkin, checkin_id)
            if checkin is None or checkin.status != CheckinStatus.OPEN:
                return None
            participant = session.get(Participant, checkin.participant_id)
            turns = _conversation(session, checkin_id)
            replies = sum(1 for turn in turns if turn.author == PARTICIPANT)
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
            if question:
                return BotTurn(
                    checkin_id,
                    question.text,
                    closing=False,
                    channel_id=checkin.channel_id,
                    seen=seen,
                    replies=replies,
                    generator=question.generator,
                    prompt_version=question.prompt_version,
                )
            return BotTurn(
                checkin_id,
                closing_text(_first_name(participant), analysis.summary),
                closing=True,
                channel_id=checkin.channel_id,
                seen=seen,
                replies=replies,
                # The recap is the analysis's summary: it was written by the analyzer.
                generator=analysis.analyzer,
                prompt_version=analysis.prompt_version,
            )
        # Another worker took this turn in the meantime; look again.
    return None


def record_bot_message(db: Database, turn: BotTurn, ts: str, now: datetime) -> None:
    """Keep the bot's turn, scrubbed like everything else (the thanks names the person)."""
    with db.transaction() as session:
        insert_ignore(
            session,
            CheckinMessage,
            {
                "checkin_id": turn.checkin_id,
                "author": BOT,
                "slack_ts": ts,
                "text_raw": None,
                "text_scrubbed": workspace_scrubber(session).scrub(turn.text),
                "generator": turn.generator,
                "prompt_version": turn.prompt_version,
                "created_at": now,
            },
            key=["checkin_id", "author", "slack_ts"],
        )


def undo_turn(db: Database, turn: BotTurn) -> None:
    """Give a turn back when its message could not be posted, so it is taken again later."""
    with db.transaction() as session:
        session.execute(
            update(Checkin)
            .where(Checkin.id == turn.checkin_id, Checkin.answered_turns == turn.replies)
            .values(
                answered_turns=turn.seen,
                followups_asked=Checkin.followups_asked - (0 if turn.closing else 1),
                status=CheckinStatus.OPEN,
                closed_at=None,
                summary=None,
            )
            .execution_options(synchronize_session=False)
        )


def answer(
    db: Database,
    analyzer: Analyzer,
    client: WebClient,
    checkin_id: int,
    now: Callable[[], datetime],
    *,
    thread_ts: str | None = None,
    settle: float = 0.0,
) -> BotTurn | None:
    """Take the bot's turn in a check-in and post it; a turn that cannot be posted is given
    back for the clock to try again."""
    turn = take_turn(db, analyzer, checkin_id, now(), settle=settle)
    if turn is None or turn.channel_id is None:
        return None
    # Stored as of before it was posted, so a quick reply can never seem to precede it.
    asked_at = now()
    try:
        posted = client.chat_postMessage(
            channel=turn.channel_id, **message_kwargs(turn.text, thread_ts)
        )
    except (SlackApiError, OSError) as exc:
        log.warning("could not post to check-in %s (%s); it is tried again later", checkin_id, exc)
        undo_turn(db, turn)
        return None
    record_bot_message(db, turn, posted["ts"], asked_at)
    return turn


def unanswered(db: Database, now: datetime, *, quiet: float = 60.0) -> list[int]:
    """Open check-ins with a reply the bot has not answered for `quiet` seconds: a crash, or
    a post that failed. The clock answers them."""
    replies = (
        select(func.count())
        .where(CheckinMessage.checkin_id == Checkin.id, CheckinMessage.author == PARTICIPANT)
        .scalar_subquery()
    )
    with db.session() as session:
        return list(
            session.exec(
                select(Checkin.id).where(
                    Checkin.status == CheckinStatus.OPEN,
                    Checkin.answered_turns < replies,
                    Checkin.last_activity_at <= now - timedelta(seconds=quiet),
                )
            ).all()
        )


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
