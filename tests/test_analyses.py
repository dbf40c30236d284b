"""Analysis rows and sender claims: nothing stale overwrites what is newer, on both databases."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.analysis.analyzer import TextAnalysis
from bot.analysis.local import LocalAnalyzer
from bot.analysis.queue import enqueue, run
from bot.runtime.deps import Deps
from storage.models import Analysis, AnalysisSource, AnalysisTheme, Answer, Delivery, DeliveryStatus
from storage.types import utcnow
from tests.pulse_helpers import make_pilot


def _an_answer(deps: Deps, words: str) -> tuple[int, int, int]:
    """A comment answer row; returns (answer id, round id, participant id)."""
    from bot.outreach.round import open_round
    from bot.pilots.pilot import get_pilot
    from bot.pilots.question import questions_of

    make_pilot(deps)
    with deps.db.session() as session:
        pilot = get_pilot(session, "support-copilot")
    opened = open_round(deps.db, pilot, "pulse", utcnow(), close_after_days=6)
    with deps.db.transaction() as session:
        delivery = session.exec(
            select(Delivery).where(Delivery.round_id == opened.round.id)
        ).first()
        comment = next(
            q for q in questions_of(session, opened.round.question_set_id) if q.key == "comment"
        )
        answer = Answer(
            delivery_id=delivery.id,
            round_id=delivery.round_id,
            question_id=comment.id,
            text_raw=words,
            text_scrubbed=words,
        )
        session.add(answer)
        session.flush()
        return answer.id, opened.round.id, delivery.participant_id


class _ChangesMidway(LocalAnalyzer):
    """An analyzer during whose (slow) work the person edits their comment."""

    def __init__(self, deps: Deps, answer_id: int, round_id: int, participant_id: int) -> None:
        self.deps, self.ids = deps, (answer_id, round_id, participant_id)
        self.calls = 0

    def analyze(self, text: str, *, kind: str = "comment") -> TextAnalysis:
        self.calls += 1
        if self.calls == 1:
            answer_id, round_id, participant_id = self.ids
            with self.deps.db.transaction() as session:
                stored = session.get(Answer, answer_id)
                stored.text_scrubbed = "Now it saves me hours every day"
                session.add(stored)
                enqueue(
                    session,
                    AnalysisSource.ANSWER,
                    answer_id,
                    round_id=round_id,
                    participant_id=participant_id,
                    now=utcnow() + timedelta(seconds=1),
                )
        return super().analyze(text, kind=kind)


def test_an_analysis_of_old_words_never_overwrites_the_new(deps: Deps) -> None:
    answer_id, round_id, participant_id = _an_answer(deps, "Useless, wrong answers all week")
    with deps.db.transaction() as session:
        analysis_id = enqueue(
            session,
            AnalysisSource.ANSWER,
            answer_id,
            round_id=round_id,
            participant_id=participant_id,
            now=utcnow(),
        )
    analyzer = _ChangesMidway(deps, answer_id, round_id, participant_id)
    run(deps.db, analyzer, [analysis_id])
    with deps.db.session() as session:
        assert session.get(Analysis, analysis_id).status == "pending"  # the old result was dropped
    run(deps.db, analyzer, [analysis_id])
    with deps.db.session() as session:
        analysis = session.get(Analysis, analysis_id)
        themes = session.exec(
            select(AnalysisTheme.theme).where(AnalysisTheme.analysis_id == analysis_id)
        ).all()
    assert analysis.status == "done" and analysis.sentiment > 0
    assert "time_saved" in themes


def test_a_live_sender_keeps_its_claims(deps: Deps) -> None:
    from bot.outreach.delivery import Sender
    from bot.outreach.round import open_round
    from bot.pilots.pilot import get_pilot

    make_pilot(deps)
    with deps.db.session() as session:
        pilot = get_pilot(session, "support-copilot")
    opened = open_round(deps.db, pilot, "pulse", utcnow(), close_after_days=6)
    first = Sender(deps.db, deps.sending_client, lambda item: {"text": "x"})
    claimed, _ = first._claim(opened.round.id, "invite", 3)
    assert len(claimed) == 3
    # Long after the lease would have run out, the first sender is still at work.
    later = utcnow() + timedelta(minutes=5)
    first.clock = lambda: later
    first._renew_claims()
    second = Sender(
        deps.db,
        deps.sending_client,
        lambda item: {"text": "x"},
        clock=lambda: later + timedelta(seconds=10),
    )
    taken, _ = second._claim(opened.round.id, "invite", 10)
    assert {i.delivery_id for i in taken}.isdisjoint({i.delivery_id for i in claimed})
    assert len(taken) == 3  # the other three rows
    # A sender that stopped renewing loses its rows once the lease is over.
    third = Sender(
        deps.db,
        deps.sending_client,
        lambda item: {"text": "x"},
        clock=lambda: later + timedelta(minutes=3),
    )
    retaken, _ = third._claim(opened.round.id, "invite", 10)
    assert len(retaken) == 6
    with deps.db.session() as session:
        assert {d.status for d in session.exec(select(Delivery)).all()} == {DeliveryStatus.SENDING}
