"""Retention: the raw words people typed are kept only for their own view, and only for
`RETENTION_DAYS`; after that only the scrubbed text used for reporting remains."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update

from storage import Database
from storage.models import Answer, CheckinMessage


@dataclass
class Purged:
    answers: int
    checkin_messages: int


def purge_raw_text(db: Database, now: datetime, days: int) -> Purged:
    """Delete raw text older than `days`; safe to run any number of times."""
    cutoff = now - timedelta(days=days)
    with db.transaction() as session:
        answers = session.execute(
            update(Answer)
            .where(Answer.text_raw.is_not(None), Answer.updated_at < cutoff)
            .values(text_raw=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        messages = session.execute(
            update(CheckinMessage)
            .where(CheckinMessage.text_raw.is_not(None), CheckinMessage.created_at < cutoff)
            .values(text_raw=None)
            .execution_options(synchronize_session=False)
        ).rowcount
    return Purged(answers=answers or 0, checkin_messages=messages or 0)
