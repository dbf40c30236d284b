"""Champions and admins: who may see a pilot's figures and act on it, decided from the database
on every action, never from anything in a payload a person could alter.

- A pilot's **champions** see its status, nudge, and edit its questions, members, goals and
  schedule.
- A pilot's **admins** may also end it and send its pulse or digest now, and may create pilots.
- **Workspace admins** (`ADMIN_USER_IDS`) may do everything, on every pilot.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

from sqlmodel import Session, select

from storage.models import Participant, Pilot, Role


class Action(StrEnum):
    STATUS = "status"  # the figures: /pilot-status, the Home tab's summary
    NUDGE = "nudge"  # the round's one reminder
    EDIT = "edit"  # questions, members, champions, goals, schedule
    END = "end"
    SEND_NOW = "send_now"  # a pulse or a digest, now
    CREATE = "create"  # a new pilot


_CHAMPION = frozenset({Action.STATUS, Action.NUDGE, Action.EDIT})
_ADMIN = _CHAMPION | {Action.END, Action.SEND_NOW, Action.CREATE}


def role_in(session: Session, pilot_id: int, slack_user_id: str) -> str | None:
    """The person's role in the pilot, or None when they are not (or no longer) in it."""
    return session.exec(
        select(Participant.role).where(
            Participant.pilot_id == pilot_id,
            Participant.slack_user_id == slack_user_id,
            Participant.left_at.is_(None),
        )
    ).first()


def may(
    session: Session,
    slack_user_id: str,
    action: Action,
    pilot: Pilot | None = None,
    *,
    admins: Collection[str] = (),
) -> bool:
    """Whether `slack_user_id` may do `action` (on `pilot`, unless the action is CREATE)."""
    if slack_user_id in admins:
        return True
    if action == Action.CREATE:
        return (
            session.exec(
                select(Participant.id).where(
                    Participant.slack_user_id == slack_user_id,
                    Participant.role == Role.ADMIN,
                    Participant.left_at.is_(None),
                )
            ).first()
            is not None
        )
    if pilot is None:
        return False
    role = role_in(session, pilot.id, slack_user_id)
    if role == Role.ADMIN:
        return action in _ADMIN
    if role == Role.CHAMPION:
        return action in _CHAMPION
    return False


def pilots_visible_to(
    session: Session, slack_user_id: str, *, admins: Collection[str] = ()
) -> list[Pilot]:
    """The pilots whose figures `slack_user_id` may see: every pilot for a workspace admin,
    else those they champion or administer."""
    query = select(Pilot).order_by(Pilot.name)
    if slack_user_id not in admins:
        query = (
            query.join(Participant, Participant.pilot_id == Pilot.id)
            .where(Participant.slack_user_id == slack_user_id)
            .where(Participant.role.in_([Role.CHAMPION, Role.ADMIN]))
            .where(Participant.left_at.is_(None))
        )
    return list(session.exec(query).all())


def is_surveyed(session: Session, pilot: Pilot, slack_user_id: str) -> bool:
    """Whether `slack_user_id` answers this pilot's pulse themselves."""
    return (
        session.exec(
            select(Participant.id).where(
                Participant.pilot_id == pilot.id,
                Participant.slack_user_id == slack_user_id,
                Participant.surveyed.is_(True),
            )
        ).first()
        is not None
    )
