"""Champions and admins: who may see a pilot's figures and act on them."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.models import Participant, Pilot, Role


def pilots_visible_to(session: Session, slack_user_id: str) -> list[Pilot]:
    """The pilots whose figures `slack_user_id` may see: those they champion or administer."""
    return list(
        session.exec(
            select(Pilot)
            .join(Participant, Participant.pilot_id == Pilot.id)
            .where(Participant.slack_user_id == slack_user_id)
            .where(Participant.role.in_([Role.CHAMPION, Role.ADMIN]))
            .order_by(Pilot.name)
        ).all()
    )


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
