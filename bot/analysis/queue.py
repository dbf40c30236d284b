"""Analysis rows: queued in the same transaction as the words they are about, run after Slack has
been answered, retried by a backlog pass when they fail. Nothing said is lost because an
analyzer was down, and nothing is analysed twice for the same words.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlmodel import Session, select

from bot.analysis.analyzer import Analyzer, TextAnalysis
from bot.privacy.names import workspace_scrubber
from storage import Database
from storage.models import (
    Analysis,
    AnalysisSource,
    AnalysisStatus,
    AnalysisTheme,
    Answer,
    CheckinMessage,
    MessageAuthor,
)
from storage.types import utcnow
from storage.upsert import upsert

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# The backlog leaves fresh rows to the worker that queued them.
BACKLOG_GRACE = timedelta(seconds=30)


def enqueue(
    session: Session,
    source: str,
    source_id: int,
    *,
    round_id: int,
    participant_id: int,
    now: datetime,
) -> int:
    """Queue (or queue again, when the words changed) the analysis of one source; returns its id."""
    return upsert(
        session,
        Analysis,
        {
            "source": source,
            "source_id": source_id,
            "round_id": round_id,
            "participant_id": participant_id,
            "status": AnalysisStatus.PENDING,
            "attempts": 0,
            "created_at": now,
        },
        key=["source", "source_id"],
        update=["status", "attempts", "created_at"],
    )


def forget(session: Session, source: str, source_ids: list[int]) -> None:
    """Drop the analyses of words that were deleted (their themes go with them)."""
    if source_ids:
        session.execute(
            delete(Analysis).where(Analysis.source == source, Analysis.source_id.in_(source_ids))
        )


def _text_of(session: Session, analysis: Analysis) -> str | None:
    """The scrubbed words an analysis is about: a comment, or a person's side of a check-in."""
    if analysis.source == AnalysisSource.ANSWER:
        return session.exec(
            select(Answer.text_scrubbed).where(Answer.id == analysis.source_id)
        ).first()
    parts = session.exec(
        select(CheckinMessage.text_scrubbed)
        .where(
            CheckinMessage.checkin_id == analysis.source_id,
            CheckinMessage.author == MessageAuthor.PARTICIPANT,
        )
        .order_by(CheckinMessage.created_at, CheckinMessage.id)
    ).all()
    return "\n".join(part for part in parts if part) or None


def _store(
    session: Session, analysis_id: int, queued_at: datetime, result: TextAnalysis, now: datetime
) -> bool:
    """Store a result, unless the words changed (and were queued again) while it was made:
    then a newer run stores its own, and this one would only overwrite it."""
    stored = session.execute(
        update(Analysis)
        .where(Analysis.id == analysis_id, Analysis.created_at == queued_at)
        .values(
            status=AnalysisStatus.DONE,
            analyzer=result.analyzer,
            prompt_version=result.prompt_version,
            sentiment=result.sentiment,
            label=result.label,
            summary=result.summary,
            blockers=result.blockers,
            wins=result.wins,
            error=(result.note or None) and result.note[:500],
            analysed_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not stored:
        return False
    session.execute(delete(AnalysisTheme).where(AnalysisTheme.analysis_id == analysis_id))
    for theme in dict.fromkeys(result.themes):
        session.add(AnalysisTheme(analysis_id=analysis_id, theme=theme))
    return True


def run(db: Database, analyzer: Analyzer, analysis_ids: list[int]) -> list[TextAnalysis]:
    """Analyse the given rows; a failure is recorded on its row for the backlog to retry.
    Returns the results that were stored (not those outdated, or erased, meanwhile)."""
    results = []
    for analysis_id in analysis_ids:
        with db.session() as session:
            analysis = session.get(Analysis, analysis_id)
            if analysis is None:
                continue
            text = _text_of(session, analysis)
            queued_at = analysis.created_at
            scrubber = workspace_scrubber(session)
        if not text:
            # The words were deleted (retention or by the person) before they were analysed.
            with db.transaction() as session:
                session.execute(delete(Analysis).where(Analysis.id == analysis_id))
            continue
        kind = "checkin" if analysis.source == AnalysisSource.CHECKIN else "comment"
        try:
            result = analyzer.analyze(text, kind=kind)
            # A model may echo or invent a name; what is stored for reporting is scrubbed again.
            result.summary = scrubber.scrub(result.summary) if result.summary else None
            result.blockers = [scrubber.scrub(b) for b in result.blockers]
            result.wins = [scrubber.scrub(w) for w in result.wins]
            with db.transaction() as session:
                stored = _store(session, analysis_id, queued_at, result, utcnow())
            if stored:
                results.append(result)
        except Exception as exc:
            log.exception("analysis %s failed; the backlog retries it", analysis_id)
            with db.transaction() as session:
                session.execute(
                    update(Analysis)
                    .where(Analysis.id == analysis_id, Analysis.created_at == queued_at)
                    .values(
                        status=AnalysisStatus.FAILED,
                        attempts=Analysis.attempts + 1,
                        error=f"{type(exc).__name__}: {exc}"[:500],
                    )
                    .execution_options(synchronize_session=False)
                )
    return results


def backlog(db: Database, analyzer: Analyzer, now: datetime, *, limit: int = 200) -> int:
    """Analyse what is still pending or failed (a crash, an analyzer that was down)."""
    with db.session() as session:
        ids = list(
            session.exec(
                select(Analysis.id)
                .where(
                    or_(
                        Analysis.status == AnalysisStatus.PENDING,
                        Analysis.status == AnalysisStatus.FAILED,
                    ),
                    Analysis.attempts < MAX_ATTEMPTS,
                    Analysis.created_at <= now - BACKLOG_GRACE,
                )
                .order_by(Analysis.id)
                .limit(limit)
            ).all()
        )
    if ids:
        run(db, analyzer, ids)
    return len(ids)


def checkin_analysis(session: Session, checkin_id: int) -> Analysis | None:
    return session.exec(
        select(Analysis).where(
            Analysis.source == AnalysisSource.CHECKIN, Analysis.source_id == checkin_id
        )
    ).first()
