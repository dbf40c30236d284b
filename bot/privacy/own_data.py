"""A person's own data: what they wrote, shown only to them, and erasing all they answered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, delete, update
from sqlmodel import select

from bot.analysis.queue import forget
from storage import Database
from storage.models import (
    AnalysisSource,
    Answer,
    Checkin,
    CheckinMessage,
    CheckinStatus,
    Delivery,
    MessageAuthor,
    Participant,
    PeriodSnapshot,
)


@dataclass(frozen=True)
class Written:
    when: datetime
    text: str
    where: str  # "pulse comment" or "check-in"


def words_of(db: Database, slack_user_id: str, *, most: int = 5) -> list[Written]:
    """The person's latest words as they typed them (until retention removes them)."""
    with db.session() as session:
        comments = session.exec(
            select(Answer.updated_at, Answer.text_raw)
            .join(Delivery, Delivery.id == Answer.delivery_id)
            .join(Participant, Participant.id == Delivery.participant_id)
            .where(Participant.slack_user_id == slack_user_id, Answer.text_raw.is_not(None))
            .order_by(Answer.updated_at.desc())
            .limit(most)
        ).all()
        replies = session.exec(
            select(CheckinMessage.created_at, CheckinMessage.text_raw)
            .join(Checkin, Checkin.id == CheckinMessage.checkin_id)
            .join(Participant, Participant.id == Checkin.participant_id)
            .where(
                Participant.slack_user_id == slack_user_id,
                CheckinMessage.author == MessageAuthor.PARTICIPANT,
                CheckinMessage.text_raw.is_not(None),
            )
            .order_by(CheckinMessage.created_at.desc())
            .limit(most)
        ).all()
    written = [Written(when, text, "pulse comment") for when, text in comments]
    written += [Written(when, text, "check-in") for when, text in replies]
    return sorted(written, key=lambda w: w.when, reverse=True)[:most]


@dataclass
class Erased:
    answers: int
    replies: int


def erase(db: Database, slack_user_id: str) -> Erased:
    """Delete every answer the person gave and the words of their check-ins (both sides), with
    their analyses, in every pilot. The conversations keep their shape, without the words.
    Returns how many answers and check-in messages were erased."""
    with db.transaction() as session:
        people = select(Participant.id).where(Participant.slack_user_id == slack_user_id)
        pilots = select(Participant.pilot_id).where(Participant.slack_user_id == slack_user_id)
        answers = session.exec(
            select(Answer.id)
            .join(Delivery, Delivery.id == Answer.delivery_id)
            .where(Delivery.participant_id.in_(people.scalar_subquery()))
        ).all()
        checkins = session.exec(
            select(Checkin.id).where(Checkin.participant_id.in_(people.scalar_subquery()))
        ).all()
        # Past weeks' kept figures counted these answers: they are counted again without them.
        session.execute(
            delete(PeriodSnapshot).where(PeriodSnapshot.pilot_id.in_(pilots.scalar_subquery()))
        )
        forget(session, AnalysisSource.ANSWER, list(answers))
        forget(session, AnalysisSource.CHECKIN, list(checkins))
        if answers:
            session.execute(delete(Answer).where(Answer.id.in_(list(answers))))
        replies = 0
        if checkins:
            replies = session.execute(
                # The bot's side goes too: its questions echo what the person said.
                update(CheckinMessage)
                .where(CheckinMessage.checkin_id.in_(list(checkins)))
                .values(text_raw=None, text_scrubbed=None)
                .execution_options(synchronize_session=False)
            ).rowcount
            # Ended too: a turn under way cannot bring the words back, and a question not yet
            # posted is never posted.
            session.execute(
                delete(CheckinMessage).where(
                    CheckinMessage.checkin_id.in_(list(checkins)),
                    CheckinMessage.slack_ts.is_(None),
                )
            )
            session.execute(
                update(Checkin)
                .where(Checkin.id.in_(list(checkins)))
                .values(
                    summary=None,
                    status=case(
                        (Checkin.status == CheckinStatus.OPEN, CheckinStatus.EXPIRED),
                        else_=Checkin.status,
                    ),
                )
                .execution_options(synchronize_session=False)
            )
    return Erased(answers=len(answers), replies=replies or 0)
