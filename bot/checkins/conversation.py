"""Check-ins: a short DM conversation with each participant about the tool and their workflow.

The opening question goes out as a round, like the pulse. Each reply is stored (scrubbed for
reporting, raw for the person's own view) before anything else happens; then the bot takes its
turn: at most two follow-ups that dig into what was said, then thanks and a one-line recap. The
conversation's state lives in the database, so a reply hours later still joins the check-in.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import delete, func, update
from sqlmodel import Session, select

from bot.analysis.analyzer import Analyzer, TextAnalysis, Turn
from bot.analysis.queue import CHECKIN, checkin_analysis, enqueue, run
from bot.checkins.event import mark_handled
from bot.outreach.delivery import PERMANENT_ERRORS, Composer, Outbound, SendOptions, SendProgress
from bot.outreach.sending import SendResult, send_round
from bot.pilots.participant import first_name, workspace_scrubber
from bot.views.checkin import closing_text, message_kwargs, opener_blocks, opener_text
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


def _deliveries(slack_user_id: str) -> Any:
    """The person's check-in messages, newest first, with their round and pilot."""
    return (
        select(Delivery, Participant, Pilot, Round)
        .join(Participant, Participant.id == Delivery.participant_id)
        .join(Round, Round.id == Delivery.round_id)
        .join(Pilot, Pilot.id == Round.pilot_id)
        .where(
            Participant.slack_user_id == slack_user_id,
            Round.kind == RoundKind.CHECKIN,
            Delivery.purpose == Purpose.INVITE,
            Delivery.status == DeliveryStatus.SENT,
        )
        .order_by(Delivery.sent_at.desc(), Delivery.id.desc())
    )


def _in_thread(session: Session, slack_user_id: str, thread_ts: str) -> Any:
    """The person's check-in whose thread `thread_ts` is: opened by its first message, or by
    one of the bot's questions in it."""
    by_opener = session.exec(
        _deliveries(slack_user_id).where(Delivery.message_ts == thread_ts).limit(1)
    ).first()
    if by_opener is not None:
        return by_opener
    return session.exec(
        _deliveries(slack_user_id)
        .join(Checkin, Checkin.delivery_id == Delivery.id)
        .join(CheckinMessage, CheckinMessage.checkin_id == Checkin.id)
        .where(CheckinMessage.author == BOT, CheckinMessage.slack_ts == thread_ts)
        .limit(1)
    ).first()


def _is_open(
    session: Session,
    delivery: Delivery,
    participant: Participant,
    _pilot: Pilot,
    round_: Round,
    now: datetime,
) -> bool:
    """Whether the check-in of `delivery` still takes replies."""
    if round_.closes_at <= now or participant.opted_out_at is not None:
        return False
    status = session.exec(select(Checkin.status).where(Checkin.delivery_id == delivery.id)).first()
    return status in (None, CheckinStatus.OPEN)


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

    A reply in a check-in's thread belongs to that check-in (someone in two pilots may have
    two), and is refused, not moved elsewhere, when that one has closed. Otherwise it joins the
    person's latest open check-in. The event id and the message are written in one
    transaction, with the analysis queued: a crash leaves either nothing (and Slack's retry
    does it all) or everything.
    """
    with db.transaction() as session:
        if not mark_handled(session, event_id):
            return Reply("duplicate")
        found = _in_thread(session, slack_user_id, thread_ts) if thread_ts else None
        if found is not None and not _is_open(session, *found, now):
            _, participant, pilot, _ = found
            return Reply("closed", pilot=pilot.name, tool=pilot.tool, participant_id=participant.id)
        if found is None:
            found = next(
                (
                    row
                    for row in session.exec(_deliveries(slack_user_id).limit(5)).all()
                    if _is_open(session, *row, now)
                ),
                None,
            )
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
# A turn is decided and written down (as a pending message, with the check-in's new state) in
# one transaction, then posted. A crash or a failed post leaves the pending message, which the
# clock posts later: no turn is lost, and none is decided twice.

_PENDING = "pending:"


@dataclass
class BotTurn:
    checkin_id: int
    message_id: int
    text: str
    closing: bool


def _conversation(session: Session, checkin_id: int) -> list[Turn]:
    rows = session.exec(
        select(CheckinMessage.author, CheckinMessage.text_scrubbed)
        .where(CheckinMessage.checkin_id == checkin_id)
        .order_by(CheckinMessage.created_at, CheckinMessage.id)
    ).all()
    return [Turn(author, text or "") for author, text in rows]


def take_turn(
    db: Database, analyzer: Analyzer, checkin_id: int, now: datetime, *, settle: float = 0.0
) -> BotTurn | None:
    """Decide the bot's next message in a check-in, a follow-up or the closing thanks, and
    write it down to be posted.

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
                    author=BOT,
                    slack_ts=f"{_PENDING}{uuid.uuid4().hex[:20]}",  # fits the column's 32
                    # The words to post, with the person's name, until they are posted.
                    text_raw=text,
                    text_scrubbed=workspace_scrubber(session).scrub(text),
                    generator=generator,
                    prompt_version=prompt_version,
                    created_at=now,
                )
                session.add(pending)
                session.flush()
                return BotTurn(checkin_id, pending.id, text, closing=question is None)
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
    if not message.slack_ts.startswith(_PENDING) or not message.text_raw or not checkin.channel_id:
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
    except OSError as exc:
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
    settle: float = 0.0,
) -> BotTurn | None:
    """Take the bot's turn in a check-in and post it."""
    turn = take_turn(db, analyzer, checkin_id, now(), settle=settle)
    if turn is not None:
        post_turn(db, client, turn.message_id, thread_ts=thread_ts)
    return turn


def unanswered(db: Database, now: datetime, *, quiet: float = 60.0) -> tuple[list[int], list[int]]:
    """What the clock must still do, `quiet` seconds on: bot messages written down but never
    posted (a crash, a failed post), and replies no turn was taken for (a crash before it)."""
    cutoff = now - timedelta(seconds=quiet)
    replies = (
        select(func.count())
        .where(CheckinMessage.checkin_id == Checkin.id, CheckinMessage.author == PARTICIPANT)
        .scalar_subquery()
    )
    with db.session() as session:
        pending = session.exec(
            select(CheckinMessage.id)
            .join(Checkin, Checkin.id == CheckinMessage.checkin_id)
            .where(
                CheckinMessage.author == BOT,
                CheckinMessage.slack_ts.startswith(_PENDING),
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
