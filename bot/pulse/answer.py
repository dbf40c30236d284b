"""Answers to the pulse: checked, scrubbed where they are words, and upserted per delivery and
question, so a double click, a retry or a replay changes the same row and never adds one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, delete, select

from bot.analysis.queue import enqueue, forget
from bot.pilots.period import zone
from bot.pilots.question import cached_questions
from bot.privacy.names import workspace_scrubber
from bot.privacy.scrub import Scrubber
from bot.views.pulse import SurveyContext, choices
from storage import Database
from storage.models import (
    AnalysisSource,
    Answer,
    Delivery,
    Participant,
    Pilot,
    Question,
    QuestionKind,
    Round,
)
from storage.upsert import upsert


class AnswerOutcome(StrEnum):
    """What became of an answer a person gave."""

    RECORDED = "recorded"
    CLOSED = "closed"  # the round no longer takes answers
    NOT_FOUND = "not_found"  # no such delivery, or not this person's
    INVALID = "invalid"  # a value the question does not offer


@dataclass
class Survey:
    """One person's survey: their delivery, its round and pilot, the questions, their answers."""

    delivery: Delivery
    participant: Participant
    round: Round
    pilot: Pilot
    questions: tuple[Question, ...]
    answers: dict[int, tuple[float | None, str | None]] = field(default_factory=dict)

    def context(self) -> SurveyContext:
        local = None
        if self.participant.slack_tz:
            try:
                local = zone(self.participant.slack_tz)
            except ValueError:
                local = None
        return SurveyContext(
            delivery_id=self.delivery.id,
            tool=self.pilot.tool,
            min_group_size=self.pilot.min_group_size,
            closes_at=self.round.closes_at,
            questions=self.questions,
            local_zone=local or zone(self.pilot.timezone),
        )

    def is_open(self, now: datetime) -> bool:
        return self.round.closes_at > now


@dataclass
class Recorded:
    outcome: AnswerOutcome
    survey: Survey | None = None
    changed: int = 0
    # Analyses queued for changed comments, to be run once Slack has been answered.
    analysis_ids: list[int] = field(default_factory=list)


def _load(
    session: Session, delivery_id: int, slack_user_id: str, *, with_answers: bool = True
) -> Survey | None:
    row = session.exec(
        select(Delivery, Participant, Round, Pilot)
        .join(Participant, Participant.id == Delivery.participant_id)
        .join(Round, Round.id == Delivery.round_id)
        .join(Pilot, Pilot.id == Round.pilot_id)
        .where(Delivery.id == delivery_id)
    ).first()
    if row is None:
        return None
    delivery, participant, round_, pilot = row
    # The payload's user is verified by Slack's signature; the delivery must be theirs.
    if participant.slack_user_id != slack_user_id or round_.question_set_id is None:
        return None
    survey = Survey(
        delivery=delivery,
        participant=participant,
        round=round_,
        pilot=pilot,
        questions=cached_questions(session, round_.question_set_id),
    )
    if with_answers:
        rows = session.exec(
            select(Answer.question_id, Answer.value_number, Answer.text_raw).where(
                Answer.delivery_id == delivery_id
            )
        ).all()
        for question_id, number, words in rows:
            survey.answers[question_id] = (number, words)
    return survey


def load_survey(db: Database, delivery_id: int, slack_user_id: str) -> Survey | None:
    """The survey of `delivery_id` if it belongs to `slack_user_id`, else None."""
    with db.session() as session:
        return _load(session, delivery_id, slack_user_id)


def record_answers(
    db: Database,
    delivery_id: int,
    slack_user_id: str,
    values: dict[int, float | str | None],
    now: datetime,
) -> Recorded:
    """Store `values` (question id → number or words) for the person's delivery.

    Everything is checked before anything is written, in one transaction: either every value
    is stored or none is. A question left empty keeps its earlier answer, except a comment
    emptied on purpose, which is deleted.
    """
    # Earlier answers matter only when some value could delete or change words.
    with_answers = any(not isinstance(value, int | float) for value in values.values())
    with db.transaction() as session:
        survey = _load(session, delivery_id, slack_user_id, with_answers=with_answers)
        if survey is None:
            return Recorded(AnswerOutcome.NOT_FOUND)
        if not survey.is_open(now):
            return Recorded(AnswerOutcome.CLOSED, survey)
        by_id = {q.id: q for q in survey.questions}
        writes: list[dict] = []
        deletes: list[int] = []
        scrubber: Scrubber | None = None
        for question_id, value in values.items():
            question = by_id.get(question_id)
            if question is None:
                return Recorded(AnswerOutcome.INVALID, survey)
            if question.kind == QuestionKind.TEXT:
                words = (value or "").strip() if isinstance(value, str) or value is None else None
                if words is None:
                    return Recorded(AnswerOutcome.INVALID, survey)
                if not words:
                    if question_id in survey.answers:
                        deletes.append(question_id)
                    continue
                if scrubber is None:
                    scrubber = workspace_scrubber(session)
                writes.append(
                    {
                        "question_id": question_id,
                        "value_number": None,
                        "text_raw": words[:4000],
                        "text_scrubbed": scrubber.scrub(words[:4000]),
                    }
                )
                continue
            if value is None:
                continue
            if isinstance(value, str) or value not in {v for _, v in choices(question)}:
                return Recorded(AnswerOutcome.INVALID, survey)
            writes.append(
                {
                    "question_id": question_id,
                    "value_number": float(value),
                    "text_raw": None,
                    "text_scrubbed": None,
                }
            )

        analysis_ids: list[int] = []
        changed = 0
        for write in writes:
            before = survey.answers.get(write["question_id"])
            after = (write["value_number"], write["text_raw"])
            answer_id = upsert(
                session,
                Answer,
                {
                    "delivery_id": delivery_id,
                    "round_id": survey.round.id,
                    "answered_at": now,
                    "updated_at": now,
                    **write,
                },
                key=["delivery_id", "question_id"],
                update=["value_number", "text_raw", "text_scrubbed", "updated_at"],
            )
            if before != after:
                changed += 1
                if write["text_raw"] is not None:
                    analysis_ids.append(
                        enqueue(
                            session,
                            AnalysisSource.ANSWER,
                            answer_id,
                            round_id=survey.round.id,
                            participant_id=survey.participant.id,
                            now=now,
                        )
                    )
            survey.answers[write["question_id"]] = after
        if deletes:
            gone = session.exec(
                select(Answer.id).where(
                    Answer.delivery_id == delivery_id, Answer.question_id.in_(deletes)
                )
            ).all()
            forget(session, AnalysisSource.ANSWER, list(gone))
            session.exec(
                delete(Answer).where(
                    Answer.delivery_id == delivery_id, Answer.question_id.in_(deletes)
                )
            )
            for question_id in deletes:
                survey.answers.pop(question_id, None)
            changed += len(deletes)
    return Recorded(AnswerOutcome.RECORDED, survey, changed=changed, analysis_ids=analysis_ids)


# -- the one-click path -----------------------------------------------------------------------
# A click in the DM is stored before Slack is answered, so this path is kept lean: one checking
# query and one upsert in Core, both compiled once, with the round's questions from memory.

_CLICK_CHECK = (
    sa_select(Participant.slack_user_id, Round.id, Round.closes_at, Round.question_set_id)
    .select_from(Delivery)
    .join(Participant, Participant.id == Delivery.participant_id)
    .join(Round, Round.id == Delivery.round_id)
    .where(Delivery.id == bindparam("delivery_id"))
)
# The upsert statement per SQL dialect, built once per process: it holds no data and no
# connection, only SQL, so every database of that dialect (and every test) can share it.
_CLICK_UPSERT: dict[str, Any] = {}


def _click_upsert(dialect: str) -> Any:
    statement = _CLICK_UPSERT.get(dialect)
    if statement is None:
        table = Answer.__table__  # type: ignore[attr-defined]
        insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
        statement = insert.values(
            delivery_id=bindparam("delivery_id"),
            round_id=bindparam("round_id"),
            question_id=bindparam("question_id"),
            value_number=bindparam("value"),
            answered_at=bindparam("now"),
            updated_at=bindparam("now"),
        )
        statement = statement.on_conflict_do_update(
            index_elements=["delivery_id", "question_id"],
            set_={
                "value_number": statement.excluded.value_number,
                "updated_at": statement.excluded.updated_at,
            },
        )
        _CLICK_UPSERT[dialect] = statement
    return statement


def record_click(
    db: Database,
    delivery_id: int,
    slack_user_id: str,
    question_id: int,
    value: float,
    now: datetime,
) -> AnswerOutcome:
    """Store a one-click answer: the person's own delivery, an open round, an offered value.

    The check and the upsert are one statement each, with no transaction around them: the
    upsert alone is the write, and what the check reads (whose delivery, when the round
    closes) does not change under it."""
    with db.statements() as session:
        connection = session.connection()
        row = connection.execute(_CLICK_CHECK, {"delivery_id": delivery_id}).first()
        if row is None or row.slack_user_id != slack_user_id or row.question_set_id is None:
            return AnswerOutcome.NOT_FOUND
        if row.closes_at <= now:
            return AnswerOutcome.CLOSED
        question = next(
            (q for q in cached_questions(session, row.question_set_id) if q.id == question_id), None
        )
        if question is None or value not in {v for _, v in choices(question)}:
            return AnswerOutcome.INVALID
        connection.execute(
            _click_upsert(connection.dialect.name),
            {
                "delivery_id": delivery_id,
                "round_id": row.id,
                "question_id": question_id,
                "value": float(value),
                "now": now,
            },
        )
    return AnswerOutcome.RECORDED
