"""A person's DM to the bot: stored in their open check-in, once, however often Slack sends it,
before anything else happens. The bot's answer is `bot.checkins.turn`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, select

from bot.analysis.queue import enqueue
from bot.checkins.event import mark_handled
from bot.privacy.names import workspace_scrubber
from storage import Database
from storage.models import (
    AnalysisSource,
    Checkin,
    CheckinMessage,
    CheckinStatus,
    Delivery,
    DeliveryStatus,
    MessageAuthor,
    Participant,
    Pilot,
    Purpose,
    Round,
    RoundKind,
)
from storage.upsert import insert_ignore


class ReplyOutcome(StrEnum):
    """What became of a DM from a person."""

    STORED = "stored"  # joined an open check-in
    DUPLICATE = "duplicate"  # a Slack retry, or the same message again: stored before
    NO_CHECKIN = "no_checkin"  # no check-in is open for them: not recorded
    CLOSED = "closed"  # a reply in the thread of a check-in that has closed: not recorded


@dataclass
class Reply:
    """What became of a DM from a person, and what it joined."""

    outcome: ReplyOutcome
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
        .where(CheckinMessage.author == MessageAuthor.BOT, CheckinMessage.slack_ts == thread_ts)
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
            return Reply(ReplyOutcome.DUPLICATE)
        found = _in_thread(session, slack_user_id, thread_ts) if thread_ts else None
        if found is not None and not _is_open(session, *found, now):
            _, participant, pilot, _ = found
            return Reply(
                ReplyOutcome.CLOSED,
                pilot=pilot.name,
                tool=pilot.tool,
                participant_id=participant.id,
            )
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
                return Reply(ReplyOutcome.NO_CHECKIN)
            participant, pilot = membership
            return Reply(
                ReplyOutcome.NO_CHECKIN,
                pilot=pilot.name,
                tool=pilot.tool,
                participant_id=participant.id,
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
                "author": MessageAuthor.PARTICIPANT,
                "slack_ts": ts,
                "text_raw": text,
                "text_scrubbed": workspace_scrubber(session).scrub(text),
                "created_at": now,
            },
            key=["checkin_id", "author", "slack_ts"],
        )
        if not stored:
            return Reply(ReplyOutcome.DUPLICATE, checkin.id, pilot.name, pilot.tool, participant.id)
        session.execute(
            update(Checkin)
            .where(Checkin.id == checkin.id)
            .values(last_activity_at=now, channel_id=channel_id)
            .execution_options(synchronize_session=False)
        )
        enqueue(
            session,
            AnalysisSource.CHECKIN,
            checkin.id,
            round_id=round_.id,
            participant_id=participant.id,
            now=now,
        )
    return Reply(ReplyOutcome.STORED, checkin.id, pilot.name, pilot.tool, participant.id)
