"""The workspace's people, by name: learnt from Slack (`users.list`, and every `users.info`
the app makes) and kept only so that the scrubber can take their names out of free text; and
the scrubber that knows them all."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime

from slack_sdk import WebClient
from sqlalchemy import func
from sqlmodel import Session, select

from bot.pilots.participant import SLACKBOT
from bot.privacy.scrub import Scrubber
from storage import Database
from storage.models import Participant, WorkspaceMember
from storage.upsert import upsert

_PAGE = 200


def remember(
    session: Session, people: Iterable[tuple[str, str | None, str | None]], now: datetime
) -> int:
    """Store (user id, real name, display name) of each person; returns how many were given."""
    count = 0
    for user_id, real_name, display_name in people:
        upsert(
            session,
            WorkspaceMember,
            {
                "slack_user_id": user_id,
                "real_name": real_name,
                "display_name": display_name,
                "updated_at": now,
            },
            key=["slack_user_id"],
            update=["real_name", "display_name", "updated_at"],
        )
        count += 1
    return count


def sync_names(db: Database, client: WebClient, now: datetime) -> int:
    """Learn every member's name from every page of `users.list` (deactivated people too: their
    names still turn up in what others write). Returns how many people were stored."""
    people = [
        (
            user["id"],
            (user.get("profile") or {}).get("real_name") or user.get("real_name"),
            (user.get("profile") or {}).get("display_name") or None,
        )
        for page in client.users_list(limit=_PAGE)
        for user in page.get("members", [])
        if not user.get("is_bot") and user.get("id") != SLACKBOT
    ]
    # One transaction for all pages: the scrubber sees the whole list change at once, never
    # half of it under an unchanged cache key.
    with db.transaction() as session:
        return remember(session, people, now)


# One scrubber per database, rebuilt only when people were added, removed or renamed. Keyed by
# the database's URL as well as by its counts, so two databases in one process (tests, the
# demo) never share a scrubber that knows the other's names; the key is read from the database
# each time, so a name learnt by another process is seen at the next call.
_SCRUBBERS: dict[str, tuple[tuple, Scrubber]] = {}
_SCRUBBERS_LOCK = threading.Lock()


def workspace_scrubber(session: Session) -> Scrubber:
    """A scrubber that knows the name of every person in any pilot and every workspace member
    learnt from Slack."""
    database = session.get_bind().engine.url.render_as_string(hide_password=False)
    key = (
        *session.exec(select(func.count(), func.max(Participant.id))).one(),
        *session.exec(select(func.count(), func.max(WorkspaceMember.updated_at))).one(),
    )
    cached = _SCRUBBERS.get(database)
    if cached is not None and cached[0] == key:
        return cached[1]
    people = session.exec(select(Participant.real_name, Participant.display_name)).all()
    others = session.exec(select(WorkspaceMember.real_name, WorkspaceMember.display_name)).all()
    scrubber = Scrubber(
        (name for pair in people for name in pair if name),
        workspace_names=(name for pair in others for name in pair if name),
    )
    with _SCRUBBERS_LOCK:
        _SCRUBBERS[database] = (key, scrubber)
    return scrubber


def pilot_names(session: Session, pilot_id: int) -> list[str]:
    """Every name and display name in one pilot."""
    rows = session.exec(
        select(Participant.real_name, Participant.display_name).where(
            Participant.pilot_id == pilot_id
        )
    ).all()
    return [name for pair in rows for name in pair if name]
