"""Slack Events API ids already handled: the guard that makes an event retry harmless.

A listener marks its event in the same transaction as the data it stores, so an event is
either stored and marked, or neither, and a retry then does the work once.
"""

from __future__ import annotations

from sqlmodel import Session

from storage import Database
from storage.models import SlackEvent
from storage.upsert import insert_ignore


def already_handled(db: Database, event_id: str) -> bool:
    with db.session() as session:
        return session.get(SlackEvent, event_id) is not None


def mark_handled(session: Session, event_id: str | None) -> bool:
    """Record `event_id` within the caller's transaction; False when it was recorded before."""
    if not event_id:
        return True
    return insert_ignore(session, SlackEvent, {"event_id": event_id}, key=["event_id"]) == 1
