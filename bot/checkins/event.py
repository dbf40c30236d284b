"""Slack Events API ids already handled: the guard that makes an event retry harmless.

A listener marks its event in the same transaction as the data it stores, so an event is
either stored and marked, or neither, and a retry then does the work once. Slack retries an
event three times within the hour after it was sent; the ids are kept a day (`KEPT`), then the
clock's daily retention job prunes them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session

from storage import Database
from storage.models import SlackEvent
from storage.upsert import insert_ignore

KEPT = timedelta(days=1)


def is_event_id(value: object) -> bool:
    """Whether `value` can be an Events API id (Slack's are a dozen characters, `Ev…`)."""
    length = SlackEvent.__table__.c.event_id.type.length  # type: ignore[attr-defined]
    return isinstance(value, str) and 0 < len(value) <= length


def already_handled(db: Database, event_id: str) -> bool:
    with db.session() as session:
        return session.get(SlackEvent, event_id) is not None


def mark_handled(session: Session, event_id: str | None) -> bool:
    """Record `event_id` within the caller's transaction; False when it was recorded before."""
    if not event_id:
        return True
    return insert_ignore(session, SlackEvent, {"event_id": event_id}, key=["event_id"]) == 1


def prune_handled(db: Database, now: datetime) -> int:
    """Forget the event ids recorded more than `KEPT` ago (Slack no longer retries them);
    returns how many went."""
    with db.transaction() as session:
        pruned = session.execute(
            delete(SlackEvent)
            .where(SlackEvent.received_at < now - KEPT)
            .execution_options(synchronize_session=False)
        ).rowcount
    return pruned or 0
