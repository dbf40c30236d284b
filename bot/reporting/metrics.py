"""The figures of a pilot for one period, aggregated in SQL, with the minimum-group rule applied.

Counts of messages (addressed, delivered, failed) and the pilot's size are about deliveries,
not about what anyone did, and are always shown. Every figure drawn from what people did or
answered (how many answered, paused, stopped or replied to a check-in; each question's n, mean
and each option's count; sentiment; themes) is withheld, as None with a reason, when fewer
people than the minimum group size stand behind it. A viewer who is in the group themselves
needs one more person, so that their own answer never makes up the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, case, distinct, func
from sqlmodel import Session, select

from bot.outreach.delivery import WAITING, status_counts
from bot.outreach.round import find_round
from bot.pilots import period as periods
from bot.pilots.question import cached_questions
from bot.reporting.adoption import (
    RECOMMEND,
    TIME_SAVED,
    USAGE,
    AdoptionFigures,
    adoption_figures,
)
from bot.usage.activity import UsageFigures, baseline_share, usage_figures
from storage.models import (
    Analysis,
    AnalysisStatus,
    AnalysisTheme,
    Answer,
    Checkin,
    CheckinStatus,
    DeliveryStatus,
    Participant,
    Pilot,
    Purpose,
    Question,
    QuestionKind,
    Round,
    RoundKind,
)


def withheld_reason(minimum: int) -> str:
    return f"fewer than {minimum} people"


@dataclass
class QuestionFigures:
    key: str
    text: str
    kind: str
    min: float | None
    max: float | None
    n: int | None
    mean: float | None
    previous_mean: float | None = None
    distribution: list[dict[str, Any]] | None = None
    withheld: str | None = None

    @property
    def change(self) -> float | None:
        if self.mean is None or self.previous_mean is None:
            return None
        return round(self.mean - self.previous_mean, 2)


@dataclass
class ParticipationFigures:
    members: int | None = 0
    paused: int | None = None
    opted_out: int | None = None


@dataclass
class PeriodFigures:
    """Everything `report`, `/pilot-status` and the digest show for one pilot and period."""

    pilot: str
    tool: str
    period: str
    min_group_size: int
    round_open: bool
    addressed: int = 0
    reminded: int = 0
    delivered: int = 0
    failed: int = 0
    pending: int = 0
    # Of `pending`: those whose own slot (or working hours) has not come yet.
    waiting: int = 0
    responded: int | None = None
    response_rate: float | None = None
    questions: list[QuestionFigures] = field(default_factory=list)
    sentiment_n: int | None = None
    sentiment_mean: float | None = None
    themes: list[dict[str, Any]] = field(default_factory=list)
    themes_withheld: int = 0
    checkins_started: int | None = None
    checkins_completed: int | None = None
    previous_period: str | None = None
    previous_response_rate: float | None = None
    people: ParticipationFigures = field(default_factory=ParticipationFigures)
    adoption: AdoptionFigures = field(default_factory=AdoptionFigures)
    # The tool's own data for the week, where imported, and the last week before the pilot.
    usage: UsageFigures | None = None
    usage_before: tuple[str, float] | None = None
    withheld: dict[str, str] = field(default_factory=dict)

    @property
    def invited(self) -> int:
        """People the pulse reached (the contract's `invited`)."""
        return self.delivered

    def as_report(self) -> dict[str, Any]:
        """The JSON report of the operator contract, with the reason for every null."""
        return {
            "pilot": self.pilot,
            "period": self.period,
            "min_group_size": self.min_group_size,
            "invited": self.invited,
            "addressed": self.addressed,
            "failed": self.failed,
            "pending": self.pending,
            "waiting": self.waiting,
            "responded": self.responded,
            "response_rate": self.response_rate,
            "questions": [
                {
                    "key": q.key,
                    "text": q.text,
                    "kind": q.kind,
                    "min": q.min,
                    "max": q.max,
                    "n": q.n,
                    "mean": q.mean,
                    "previous_mean": q.previous_mean,
                    "change": q.change,
                    **({"distribution": q.distribution} if q.distribution is not None else {}),
                    **({"withheld": q.withheld} if q.withheld else {}),
                }
                for q in self.questions
            ],
            "sentiment": {"n": self.sentiment_n, "mean": self.sentiment_mean},
            "themes": self.themes,
            "themes_withheld": self.themes_withheld,
            "checkins": {"started": self.checkins_started, "completed": self.checkins_completed},
            "people": {
                "members": self.people.members,
                "paused": self.people.paused,
                "opted_out": self.people.opted_out,
            },
            "adoption": {
                "weekly_usage": self.adoption.weekly_usage,
                "weekly_usage_n": self.adoption.weekly_usage_n,
                "nps": self.adoption.nps,
                "nps_n": self.adoption.nps_n,
                "hours_saved_per_week": self.adoption.hours_total,
                "hours_saved_per_person": self.adoption.hours_per_person,
                "hours_saved_n": self.adoption.hours_n,
            },
            "usage": self.usage.as_report() if self.usage is not None else None,
            "usage_before_pilot": {
                "period": self.usage_before[0],
                "active_share": self.usage_before[1],
            }
            if self.usage_before is not None
            else None,
            "previous_period": self.previous_period,
            "previous_response_rate": self.previous_response_rate,
            "withheld": self.withheld,
        }


@dataclass(frozen=True)
class RoundAnswers:
    """A round's answers, counted: how many people answered anything, and for each question how
    many people gave each value (words count under None)."""

    responded: int
    by_question: dict[int, dict[float | None, int]]

    def n(self, question_id: int) -> int:
        """People who answered the question: one answer per person and question, as a person
        answers on their one invite delivery of the round (a reminder points back to it)."""
        return sum(self.by_question.get(question_id, {}).values())

    def mean(self, question_id: int) -> float | None:
        counts = {v: c for v, c in self.by_question.get(question_id, {}).items() if v is not None}
        total = sum(counts.values())
        return sum(v * c for v, c in counts.items()) / total if total else None


def round_answers(session: Session, round_id: int) -> RoundAnswers:
    """Count a round's answers in two passes over one index (`ix_answer_round_figures`): no
    join, so the cost follows the round's answers, not every answer ever stored."""
    rows = session.exec(
        select(Answer.question_id, Answer.value_number, func.count())
        .where(Answer.round_id == round_id)
        .group_by(Answer.question_id, Answer.value_number)
    ).all()
    responded = session.exec(
        select(func.count(distinct(Answer.delivery_id))).where(Answer.round_id == round_id)
    ).one()
    by_question: dict[int, dict[float | None, int]] = {}
    for question_id, value, count in rows:
        by_question.setdefault(question_id, {})[None if value is None else float(value)] = count
    return RoundAnswers(responded=responded, by_question=by_question)


def _participation(session: Session, pilot: Pilot, now: Any, minimum: int) -> ParticipationFigures:
    members, paused, opted_out = session.exec(
        select(
            func.count(),
            func.count(case((Participant.paused_until > now, 1))),
            func.count(case((Participant.opted_out_at.is_not(None), 1))),
        ).where(
            Participant.pilot_id == pilot.id,
            Participant.surveyed.is_(True),
            Participant.left_at.is_(None),
        )
    ).one()
    return ParticipationFigures(
        members=members, paused=_at_least(paused, minimum), opted_out=_at_least(opted_out, minimum)
    )


def rounds_of_period(session: Session, pilot_id: int, period: str) -> list[int]:
    return list(
        session.exec(
            select(Round.id).where(Round.pilot_id == pilot_id, Round.period == period)
        ).all()
    )


# Statements over a period's rounds, built once with the rounds as a parameter: SQLAlchemy
# builds an IN list (and an ORDER BY on an aggregate) with reference cycles, which only the
# garbage collector frees, so a statement built per call leaves garbage behind.
_ROUND_IDS = bindparam("round_ids", expanding=True)
_SENTIMENT = select(
    func.count(distinct(Analysis.participant_id)), func.avg(Analysis.sentiment)
).where(
    Analysis.round_id.in_(_ROUND_IDS),
    Analysis.status == AnalysisStatus.DONE,
    Analysis.sentiment.is_not(None),
)
_PEOPLE = func.count(distinct(Analysis.participant_id))
_THEME_COUNTS = (
    select(AnalysisTheme.theme, _PEOPLE)
    .join(Analysis, Analysis.id == AnalysisTheme.analysis_id)
    .where(Analysis.round_id.in_(_ROUND_IDS), Analysis.status == AnalysisStatus.DONE)
    .group_by(AnalysisTheme.theme)
    .order_by(_PEOPLE.desc(), AnalysisTheme.theme)
)


def _sentiment(session: Session, round_ids: list[int]) -> tuple[int, float | None]:
    if not round_ids:
        return 0, None
    n, mean = session.exec(_SENTIMENT, params={"round_ids": round_ids}).one()
    return n, None if mean is None else float(mean)


def theme_counts(session: Session, round_ids: list[int]) -> list[tuple[str, int]]:
    """(theme, distinct people who raised it), most raised first."""
    if not round_ids:
        return []
    rows = session.exec(_THEME_COUNTS, params={"round_ids": round_ids}).all()
    return [(theme, count) for theme, count in rows]


def _checkins(session: Session, round_id: int | None) -> tuple[int, int]:
    if round_id is None:
        return 0, 0
    started, completed = session.exec(
        select(func.count(), func.count(case((Checkin.status == CheckinStatus.CLOSED, 1)))).where(
            Checkin.round_id == round_id
        )
    ).one()
    return started, completed


def _at_least(value: int, minimum: int) -> int | None:
    return value if value >= minimum else None


def _previous(
    session: Session, pilot: Pilot, period: str, minimum: int
) -> tuple[float | None, dict[str, float | None]]:
    """Last period's response rate and means by question key, withheld under `minimum`."""
    round_ = find_round(session, pilot.id, RoundKind.PULSE, periods.previous(period))
    if round_ is None or round_.question_set_id is None:
        return None, {}
    delivered = status_counts(session, round_.id, Purpose.INVITE).get(DeliveryStatus.SENT, 0)
    answers = round_answers(session, round_.id)
    rate = (
        round(answers.responded / delivered, 3)
        if answers.responded >= minimum and delivered
        else None
    )
    means = {
        q.key: answers.mean(q.id)
        for q in cached_questions(session, round_.question_set_id)
        if q.kind != QuestionKind.TEXT and answers.n(q.id) >= minimum
    }
    return rate, means


def period_figures(
    session: Session,
    pilot: Pilot,
    period: str,
    *,
    now: Any,
    viewer_in_group: bool = False,
    previous: Mapping[str, Any] | None = None,
) -> PeriodFigures:
    """The figures of `pilot` for `period`, with the minimum-group rule applied.

    `viewer_in_group`: the figures are for someone who is surveyed in this pilot themselves.
    `previous`: last period's headline figures when the caller has them (the digest keeps
    them), so that last period's answers are not counted again.
    """
    minimum = pilot.min_group_size + (1 if viewer_in_group else 0)
    reason = withheld_reason(minimum)
    pulse = find_round(session, pilot.id, RoundKind.PULSE, period)
    checkin_round = find_round(session, pilot.id, RoundKind.CHECKIN, period)
    figures = PeriodFigures(
        pilot=pilot.name,
        tool=pilot.tool,
        period=period,
        min_group_size=minimum,
        round_open=pulse is not None and pulse.closes_at > now,
        people=_participation(session, pilot, now, minimum),
    )
    # Before any figure about people is withheld: the head count actual usage is a share of.
    members = figures.people.members or 0

    figures.previous_period = periods.previous(period)
    if previous is not None:
        figures.previous_response_rate = previous.get("response_rate")
        previous_means = dict(previous.get("means") or {})
    else:
        figures.previous_response_rate, previous_means = _previous(session, pilot, period, minimum)

    if pulse is None:
        figures.withheld["responded"] = "no pulse this period"
    else:
        counts = status_counts(session, pulse.id, Purpose.INVITE, now)
        figures.addressed = sum(counts.values())
        # Members minus those the pulse went to are those paused or stopped when it went out:
        # a figure about people, so the head count is withheld when it would give that away.
        left_out = figures.people.members - figures.addressed
        if 0 < left_out < minimum:
            figures.people.members = None
            figures.withheld["members"] = (
                f"with the pulse's count it would show {reason} paused or stopped"
            )
        figures.delivered = counts.get(DeliveryStatus.SENT, 0)
        figures.failed = counts.get(DeliveryStatus.FAILED, 0)
        figures.waiting = counts[WAITING]
        figures.pending = (
            counts[DeliveryStatus.PENDING] + counts[DeliveryStatus.SENDING] + figures.waiting
        )
        figures.reminded = sum(status_counts(session, pulse.id, Purpose.REMINDER).values())
        answers = round_answers(session, pulse.id)
        responded = answers.responded
        figures.responded = _at_least(responded, minimum)
        if figures.responded is None:
            figures.withheld["responded"] = reason
            figures.withheld["response_rate"] = reason
        elif figures.delivered:
            figures.response_rate = round(responded / figures.delivered, 3)

        questions = (
            cached_questions(session, pulse.question_set_id) if pulse.question_set_id else ()
        )
        for question in questions:
            n, mean = answers.n(question.id), answers.mean(question.id)
            shown = n >= minimum
            prev_mean = previous_means.get(question.key)
            item = QuestionFigures(
                key=question.key,
                text=question.text.replace("{tool}", pilot.tool),
                kind=question.kind,
                min=_bound(question, low=True),
                max=_bound(question, low=False),
                n=n if shown else None,
                mean=round(mean, 2)
                if shown and mean is not None and question.kind != QuestionKind.TEXT
                else None,
                # Withheld under the minimum already (by `_previous`, or in the kept headline).
                previous_mean=(
                    round(prev_mean, 2)
                    if prev_mean is not None and question.kind != QuestionKind.TEXT
                    else None
                ),
                withheld=None if shown else reason,
            )
            if question.kind == QuestionKind.CHOICE and shown:
                counts_by_value = answers.by_question.get(question.id, {})
                # A single option can stand for fewer people than the whole question does. Then
                # every option's count is withheld, since the others and n would give that one
                # away; and for a two-option question the mean would too.
                options = question.options or []
                counts = [counts_by_value.get(float(option["value"]), 0) for option in options]
                small = any(0 < count < minimum for count in counts)
                item.distribution = [
                    {
                        "value": option["value"],
                        "label": option["label"],
                        "count": None if small else count,
                        **({"withheld": reason} if small else {}),
                    }
                    for option, count in zip(options, counts, strict=True)
                ]
                if small and len(options) <= 2:
                    item.mean = None
                    item.withheld = reason
            figures.questions.append(item)
        time_saved = next((q for q in figures.questions if q.key == TIME_SAVED), None)
        figures.adoption = adoption_figures(
            questions,
            {q.key: answers.by_question.get(q.id, {}) for q in questions},
            time_saved.mean if time_saved is not None else None,
            minimum,
        )
        keys = {q.key for q in questions}
        adoption = figures.adoption
        for name, key, value in (
            ("weekly_usage", USAGE, adoption.weekly_usage),
            ("nps", RECOMMEND, adoption.nps),
            ("hours_saved", TIME_SAVED, adoption.hours_total),
        ):
            if key in keys and value is None:
                figures.withheld[f"adoption.{name}"] = (
                    f"{reason}, or one of its two groups (used it, did not) is"
                    if name == "weekly_usage"
                    else reason
                )

    round_ids = rounds_of_period(session, pilot.id, period)
    n, mean = _sentiment(session, round_ids)
    if n >= minimum:
        figures.sentiment_n, figures.sentiment_mean = (
            n,
            round(mean, 3) if mean is not None else None,
        )
    else:
        figures.withheld["sentiment"] = reason
    for theme, people in theme_counts(session, round_ids):
        if people >= minimum:
            figures.themes.append({"theme": theme, "count": people})
        else:
            figures.themes_withheld += 1
    started, completed = _checkins(session, checkin_round.id if checkin_round else None)
    figures.checkins_started = _at_least(started, minimum)
    figures.checkins_completed = _at_least(completed, minimum)
    if figures.checkins_started is None:
        figures.withheld["checkins.started"] = reason
    if figures.checkins_completed is None:
        figures.withheld["checkins.completed"] = reason
    figures.usage = usage_figures(session, pilot, period, members, minimum)
    if figures.usage is not None:
        figures.withheld.update(figures.usage.withheld)
        baseline = baseline_share(session, pilot, members, minimum)
        if baseline is not None:
            period_before, share, why = baseline
            if share is not None:
                figures.usage_before = (period_before, share)
            else:
                figures.withheld["usage_before_pilot"] = why or reason
    if figures.people.paused is None:
        figures.withheld["paused"] = reason
    if figures.people.opted_out is None:
        figures.withheld["opted_out"] = reason
    return figures


def _bound(question: Question, *, low: bool) -> float | None:
    if question.kind == QuestionKind.SCALE:
        return question.min_value if low else question.max_value
    if question.kind == QuestionKind.CHOICE and question.options:
        values = [option["value"] for option in question.options]
        return min(values) if low else max(values)
    return None
