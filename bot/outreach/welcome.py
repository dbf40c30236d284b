"""Welcoming the people who join a pilot (from its channel or user group, or named by hand) with
a short DM: what the pilot is, when they will hear from it, who sees what.

Someone who joins in their quiet hours or on a day off is welcomed when their working hours
begin: the welcome is owed (`Participant.welcome_due_at`) and the clock sends it when due.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import update
from sqlmodel import select

from bot.errors import slack_error_code
from bot.pilots.calendar import calendar_of, civil_from
from bot.pilots.participant import first_name
from bot.pilots.pilot import get_pilot
from bot.pilots.schedule import Slot, local_when, next_instant, person_zone
from bot.views.welcome import welcome_blocks, welcome_text
from storage import Database
from storage.models import Participant, Pilot
from storage.types import utcnow

log = logging.getLogger(__name__)


def welcome(
    db: Database,
    client: WebClient,
    pilot_name: str,
    user_ids: Iterable[str],
    now: datetime | None = None,
) -> int:
    """Owe each newcomer of the pilot a welcome DM, due at once or when their working hours
    begin, and send those due now; returns how many were welcomed now."""
    user_ids = list(user_ids)
    if not user_ids:
        return 0
    now = now or utcnow()
    with db.transaction() as session:
        pilot = get_pilot(session, pilot_name)
        calendar = calendar_of(pilot)
        people = session.exec(
            select(Participant).where(
                Participant.pilot_id == pilot.id, Participant.slack_user_id.in_(user_ids)
            )
        ).all()
        for person in people:
            person.welcome_due_at = civil_from(now, person_zone(person.slack_tz, pilot), calendar)
            session.add(person)
    return send_welcomes(db, client, now, pilot_id=pilot.id)


def send_welcomes(
    db: Database, client: WebClient, now: datetime, *, pilot_id: int | None = None
) -> int:
    """Send the welcomes due by `now` (of one pilot, or all); returns how many were sent. Each
    is taken by one sender only; a DM Slack refuses (the person is gone, DMs closed) is logged
    and dropped: joining does not depend on it."""
    with db.session() as session:
        query = (
            select(Participant, Pilot)
            .join(Pilot, Pilot.id == Participant.pilot_id)
            .where(
                Participant.welcome_due_at <= now,
                Pilot.ended_at.is_(None),
                Participant.left_at.is_(None),
                Participant.opted_out_at.is_(None),
            )
        )
        if pilot_id is not None:
            query = query.where(Participant.pilot_id == pilot_id)
        owed = session.exec(query).all()
    welcomed = 0
    for person, pilot in owed:
        if not _take(db, person.id):
            continue  # another clock, or the join itself, took it
        shown = local_when(
            next_instant(pilot, Slot.PULSE, now, person.slack_tz), person.slack_tz, pilot.timezone
        )
        try:
            client.chat_postMessage(
                channel=person.slack_user_id,
                text=welcome_text(pilot.name, pilot.tool),
                blocks=welcome_blocks(
                    pilot.name,
                    pilot.tool,
                    pilot.workflow,
                    pilot.min_group_size,
                    person.id,
                    first_name(person.real_name, person.display_name),
                    shown,
                ),
                unfurl_links=False,
            )
            welcomed += 1
        except SlackApiError as exc:
            log.warning("could not welcome %s: %s", person.slack_user_id, slack_error_code(exc))
    return welcomed


def _take(db: Database, participant_id: int) -> bool:
    """Claim the person's owed welcome: True for the one sender whose update cleared it."""
    with db.transaction() as session:
        taken = session.execute(
            update(Participant)
            .where(Participant.id == participant_id, Participant.welcome_due_at.is_not(None))
            .values(welcome_due_at=None)
            .execution_options(synchronize_session=False)
        ).rowcount
    return bool(taken)
