"""The workspace's people, by name: learnt from Slack (`users.list`, and every `users.info`
the app makes) and kept only so that the scrubber can take their names out of free text."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from slack_sdk import WebClient
from sqlmodel import Session

from storage import Database
from storage.models import WorkspaceMember
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
        if not user.get("is_bot") and user.get("id") != "USLACKBOT"
    ]
    # One transaction for all pages: the scrubber sees the whole list change at once, never
    # half of it under an unchanged cache key.
    with db.transaction() as session:
        return remember(session, people, now)
