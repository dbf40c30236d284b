"""The tables of pilot-pulse: pilots and their people, questions, rounds, deliveries, answers,
check-ins, analyses and digests. Storage knows nothing of Slack's payloads; ids from Slack are
plain strings here.

Every scheduled thing carries a natural unique key (a round per pilot/kind/period, a delivery per
round/participant/purpose, an answer per delivery/question, a digest per pilot/period), so a
retry, a replay or a second scheduler can only ever meet the row that is there already.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow

# Named constraints let Alembic alter tables on SQLite (batch mode) and keep migrations stable.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = SQLModel.metadata


def _fk(target: str, *, nullable: bool = False, index: bool = True) -> Any:
    """A foreign key that deletes with its parent: erasing a person or pilot leaves no orphans."""
    return Field(
        default=None if nullable else ...,
        sa_column=Column(
            Integer, ForeignKey(target, ondelete="CASCADE"), nullable=nullable, index=index
        ),
    )


def _created() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def _when() -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=True)


class Role(StrEnum):
    """What a participant may see: members answer, champions and admins also see the totals."""

    MEMBER = "member"
    CHAMPION = "champion"
    ADMIN = "admin"


class RoundKind(StrEnum):
    PULSE = "pulse"
    CHECKIN = "checkin"


class Purpose(StrEnum):
    """Why a delivery exists: the round's first message or its one reminder."""

    INVITE = "invite"
    REMINDER = "reminder"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for a sender
    SENDING = "sending"  # claimed by a sender, message in flight
    SENT = "sent"
    FAILED = "failed"  # failed for good; failure_reason says why
    SKIPPED = "skipped"  # not sent: the person paused, opted out, or had answered already


class QuestionKind(StrEnum):
    CHOICE = "choice"  # one of a few labelled options, each with a numeric value
    SCALE = "scale"  # a whole number from min to max
    TEXT = "text"  # free text, always optional


class CheckinStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    EXPIRED = "expired"


class MessageAuthor(StrEnum):
    """Who wrote a turn of a check-in."""

    BOT = "bot"
    PARTICIPANT = "participant"


class AnalysisSource(StrEnum):
    """What an analysis is about: a pulse comment, or a person's side of a check-in."""

    ANSWER = "answer"
    CHECKIN = "checkin"


class AnalysisStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class DigestStatus(StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    FAILED = "failed"


class Pilot(SQLModel, table=True):
    """One AI tool being adopted by one team, with its schedule and its privacy threshold."""

    __table_args__ = (
        CheckConstraint("min_group_size >= 3", name="min_group_size_at_least_3"),
        CheckConstraint("pulse_weekday BETWEEN 0 AND 6", name="pulse_weekday_range"),
        CheckConstraint("checkin_weekday BETWEEN 0 AND 6", name="checkin_weekday_range"),
        CheckConstraint("digest_weekday BETWEEN 0 AND 6", name="digest_weekday_range"),
        CheckConstraint("reminder_weekday BETWEEN 0 AND 6", name="reminder_weekday_range"),
        CheckConstraint("working_days BETWEEN 1 AND 127", name="working_days_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    tool: str = Field(max_length=200)
    workflow: str | None = Field(default=None, max_length=300)
    leadership_channel: str = Field(max_length=32)
    timezone: str = Field(default="UTC", max_length=64)
    min_group_size: int = Field(default=5)
    # Weekdays are 0 = Monday … 6 = Sunday; times are local to the pilot's time zone.
    pulse_weekday: int = Field(default=1)
    pulse_hour: int = Field(default=10)
    pulse_minute: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    reminder_weekday: int = Field(default=3)
    reminder_hour: int = Field(default=10)
    reminder_minute: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    checkin_weekday: int = Field(default=2)
    checkin_hour: int = Field(default=14)
    checkin_minute: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # The digest goes out on Monday morning, about the week just ended.
    digest_weekday: int = Field(default=0)
    digest_hour: int = Field(default=11)
    digest_minute: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Where the members come from, followed as people join and leave (None: named by hand).
    member_channel_id: str | None = Field(default=None, max_length=32)
    member_group_id: str | None = Field(default=None, max_length=32)
    round_close_days: int | None = Field(default=None)
    # The days people work, bit i set for weekday i (0 = Monday): 31 is Monday to Friday. A
    # slot on another day, or on one of `holidays` (ISO dates), moves to the next working day
    # in each person's own time zone.
    working_days: int = Field(default=31, sa_column_kwargs={"server_default": "31"})
    holidays: list[str] | None = Field(default=None, sa_type=JSON)
    created_at: datetime = _created()
    ended_at: datetime | None = _when()


class Participant(SQLModel, table=True):
    """A person in a pilot. Names are kept only to scrub them out of free text."""

    __table_args__ = (
        UniqueConstraint("pilot_id", "slack_user_id"),
        # The clock looks for owed welcomes every minute.
        Index("ix_participant_welcome_due_at", "welcome_due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    pilot_id: int = _fk("pilot.id")
    slack_user_id: str = Field(max_length=32, index=True)
    role: str = Field(default=Role.MEMBER, max_length=16)
    # Champions and admins are not surveyed unless they were also named as members.
    surveyed: bool = Field(default=True)
    real_name: str | None = Field(default=None, max_length=200)
    display_name: str | None = Field(default=None, max_length=200)
    slack_tz: str | None = Field(default=None, max_length=64)
    paused_until: datetime | None = _when()
    opted_out_at: datetime | None = _when()
    joined_at: datetime = _created()
    # Named by hand (not through the pilot's channel or group): following the channel never
    # takes them off.
    named: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    # Left the pilot (its channel, its group, or taken off it): no more rounds; the answers
    # they gave stay in the totals.
    left_at: datetime | None = _when()
    # A welcome DM waiting for the person's working hours (None: welcomed, or none owed).
    welcome_due_at: datetime | None = _when()


class QuestionSet(SQLModel, table=True):
    """A version of a pilot's questions; editing makes a new version, old answers keep theirs."""

    __tablename__ = "question_set"
    __table_args__ = (UniqueConstraint("pilot_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    pilot_id: int = _fk("pilot.id")
    version: int = Field(default=1)
    created_at: datetime = _created()


class Question(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("question_set_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    question_set_id: int = _fk("question_set.id")
    key: str = Field(max_length=40)
    position: int = Field(default=0)
    kind: str = Field(max_length=16)
    text: str = Field(max_length=300)
    # For choice questions: [{"value": number, "label": str}, …] in display order.
    options: list[dict[str, Any]] | None = Field(default=None, sa_type=JSON)
    min_value: int | None = Field(default=None)
    max_value: int | None = Field(default=None)
    min_label: str | None = Field(default=None, max_length=60)
    max_label: str | None = Field(default=None, max_length=60)
    optional: bool = Field(default=False)


class Round(SQLModel, table=True):
    """One pulse or one check-in for one pilot in one period (an ISO week in its time zone)."""

    __table_args__ = (UniqueConstraint("pilot_id", "kind", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    pilot_id: int = _fk("pilot.id")
    kind: str = Field(max_length=16)
    period: str = Field(max_length=10)
    question_set_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("question_set.id", ondelete="SET NULL"), nullable=True
        ),
    )
    opened_at: datetime = _created()
    closes_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class Delivery(SQLModel, table=True):
    """One message to one person for one round; the durable unit of the fan-out."""

    __table_args__ = (
        UniqueConstraint("round_id", "participant_id", "purpose"),
        Index("ix_delivery_round_status", "round_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = _fk("round.id", index=False)
    participant_id: int = _fk("participant.id")
    purpose: str = Field(default=Purpose.INVITE, max_length=16)
    status: str = Field(default=DeliveryStatus.PENDING, max_length=16)
    attempts: int = Field(default=0)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = _when()
    channel_id: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    failure_reason: str | None = Field(default=None, max_length=200)
    # Not before this instant: the pilot's slot in the person's own time zone, moved off
    # non-working days, holidays and quiet hours (None: at once).
    due_at: datetime | None = _when()
    sent_at: datetime | None = _when()
    created_at: datetime = _created()
    updated_at: datetime = _created()


class Answer(SQLModel, table=True):
    """A person's answer to one question of one delivery; changing it updates the same row."""

    __table_args__ = (
        UniqueConstraint("delivery_id", "question_id"),
        # A round's figures are one pass over this index (question, value, person), however
        # many rounds the table holds; no join through deliveries, whose plan depends on the
        # planner's guess of how many rows a round has.
        Index("ix_answer_round_figures", "round_id", "question_id", "value_number", "delivery_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = _fk("delivery.id", index=False)
    # The delivery's round, copied in (a delivery never changes round) for the index above.
    round_id: int = _fk("round.id", index=False)
    question_id: int = _fk("question.id")
    value_number: float | None = Field(default=None)
    # The words as typed, for the respondent's own view only; deleted after the retention period.
    text_raw: str | None = Field(default=None)
    # The words with names, mentions, e-mails, phone numbers and links replaced: what reports see.
    text_scrubbed: str | None = Field(default=None)
    answered_at: datetime = _created()
    updated_at: datetime = _created()


class Checkin(SQLModel, table=True):
    """A short DM conversation with one participant, opened by a check-in delivery."""

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("delivery.id", ondelete="CASCADE"), nullable=False, unique=True
        )
    )
    round_id: int = _fk("round.id")
    participant_id: int = _fk("participant.id")
    status: str = Field(default=CheckinStatus.OPEN, max_length=16)
    followups_asked: int = Field(default=0)
    # How many of the person's messages the bot has answered: a turn is taken once however
    # many workers see the same replies.
    answered_turns: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    channel_id: str | None = Field(default=None, max_length=32)
    summary: str | None = Field(default=None)
    started_at: datetime = _created()
    last_activity_at: datetime = _created()
    closed_at: datetime | None = _when()


class CheckinMessage(SQLModel, table=True):
    """One turn of a check-in; a Slack retry of the same message meets the unique key."""

    __tablename__ = "checkin_message"
    __table_args__ = (UniqueConstraint("checkin_id", "author", "slack_ts"),)

    id: int | None = Field(default=None, primary_key=True)
    checkin_id: int = _fk("checkin.id", index=False)
    author: str = Field(max_length=16)  # a MessageAuthor
    # Slack's ts once the message is in Slack; NULL for a bot turn decided but not yet posted
    # (the clock posts it if the process died in between). NULLs never clash in the unique key.
    slack_ts: str | None = Field(default=None, max_length=32)
    text_raw: str | None = Field(default=None)
    text_scrubbed: str | None = Field(default=None)
    # For the bot's turns: what wrote the question ("local" or "openai:MODEL") and the prompt.
    generator: str | None = Field(default=None, max_length=80)
    prompt_version: str | None = Field(default=None, max_length=40)
    created_at: datetime = _created()


class WorkspaceMember(SQLModel, table=True):
    """The names of the workspace's people, kept only to scrub them out of free text: a name
    can appear in someone's words whether or not its owner is in a pilot."""

    __tablename__ = "workspace_member"

    slack_user_id: str = Field(primary_key=True, max_length=32)
    real_name: str | None = Field(default=None, max_length=200)
    display_name: str | None = Field(default=None, max_length=200)
    updated_at: datetime = _created()


class Analysis(SQLModel, table=True):
    """Sentiment, themes and a summary of one scrubbed text, with what produced them.

    `round_id` and `participant_id` are copied in so that reports can count distinct people per
    theme in SQL, which the minimum-group rule needs.
    """

    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        Index("ix_analysis_round_status", "round_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=16)  # an AnalysisSource
    source_id: int = Field()
    round_id: int = _fk("round.id", index=False)
    participant_id: int = _fk("participant.id")
    status: str = Field(default=AnalysisStatus.PENDING, max_length=16)
    attempts: int = Field(default=0)
    analyzer: str | None = Field(default=None, max_length=80)
    prompt_version: str | None = Field(default=None, max_length=40)
    sentiment: float | None = Field(default=None)
    label: str | None = Field(default=None, max_length=16)
    summary: str | None = Field(default=None)
    blockers: list[str] | None = Field(default=None, sa_type=JSON)
    wins: list[str] | None = Field(default=None, sa_type=JSON)
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime = _created()
    analysed_at: datetime | None = _when()


class AnalysisTheme(SQLModel, table=True):
    __tablename__ = "analysis_theme"

    analysis_id: int = Field(
        sa_column=Column(Integer, ForeignKey("analysis.id", ondelete="CASCADE"), primary_key=True)
    )
    theme: str = Field(max_length=40, primary_key=True)


class Goal(SQLModel, table=True):
    """A pilot's success goal: a figure (`metric`, e.g. weekly_usage) and its target."""

    __table_args__ = (UniqueConstraint("pilot_id", "metric"),)

    id: int | None = Field(default=None, primary_key=True)
    pilot_id: int = _fk("pilot.id", index=False)
    metric: str = Field(max_length=40)
    target: float = Field()
    set_at: datetime = _created()


class PeriodSnapshot(SQLModel, table=True):
    """A closed period's headline figures, kept so that the digest's trend reads a dozen small
    rows instead of a dozen periods of answers. Written once the period's pulse has closed
    (its answers can no longer change), with the minimum group it was computed for; erasing a
    person's answers drops the snapshots of their pilots, so they leave the totals."""

    __tablename__ = "period_snapshot"
    __table_args__ = (UniqueConstraint("pilot_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    pilot_id: int = _fk("pilot.id", index=False)
    period: str = Field(max_length=10)
    min_group_size: int = Field()
    # {"response_rate": 0.8, "usefulness": 3.6, ...}; null where a figure was withheld.
    figures: dict[str, Any] = Field(sa_type=JSON)
    computed_at: datetime = _created()


class Digest(SQLModel, table=True):
    """The weekly leadership digest of one pilot for one period, posted at most once: a poster
    claims the row (pending) before it posts, so two clocks or a CLI run post once."""

    __table_args__ = (UniqueConstraint("pilot_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    pilot_id: int = _fk("pilot.id", index=False)
    period: str = Field(max_length=10)
    status: str = Field(default=DigestStatus.PENDING, max_length=16)
    channel_id: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    file_id: str | None = Field(default=None, max_length=32)
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime = _created()
    # When the poster holding the row took it; a claim older than a few minutes is taken over.
    claimed_at: datetime | None = _when()
    posted_at: datetime | None = _when()


class UsageDay(SQLModel, table=True):
    """What the AI tool's own export says of one member on one UTC day: active or not, and how
    many uses (None where the export has no counts). Only members are stored; no raw export is
    kept. A newer export of the same day replaces the row."""

    __tablename__ = "usage_day"
    __table_args__ = (
        UniqueConstraint("participant_id", "day"),
        # A week's figures are one range of this index.
        Index("ix_usage_day_pilot_day", "pilot_id", "day", "active", "participant_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    pilot_id: int = _fk("pilot.id", index=False)
    participant_id: int = _fk("participant.id", index=False)
    day: date = Field(sa_type=Date, nullable=False)
    active: bool = Field(default=False)
    uses: int | None = Field(default=None)
    source: str = Field(max_length=32)  # the export's format, e.g. "github-copilot"
    tool: str | None = Field(default=None, max_length=80)  # the generic CSV's `tool` column
    imported_at: datetime = _created()


class SlackEvent(SQLModel, table=True):
    """Events API ids already handled, so a Slack retry is processed once."""

    __tablename__ = "slack_event"

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = _created()


class ClockBeat(SQLModel, table=True):
    """The last tick of each clock process: what `doctor` and `/healthz` read to tell a clock
    that runs from one that stopped."""

    __tablename__ = "clock_beat"

    clock_id: str = Field(primary_key=True, max_length=96)
    started_at: datetime = _created()
    beat_at: datetime = _created()
