"""Welcoming the people who join a pilot (from its channel or user group, or named by hand) with
a short DM: what the pilot is, when they will hear from it, who sees what."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import select

from bot.errors import slack_error_code
from bot.pilots.participant import first_name
from bot.pilots.pilot import get_pilot
from bot.pilots.schedule import Slot, local_when, next_instant
from bot.views.welcome import welcome_blocks, welcome_text
from storage import Database
from storage.models import Participant
from storage.types import utcnow

log = logging.getLogger(__name__)


def welcome(db: Database, client: WebClient, pilot_name: str, user_ids: Iterable[str]) -> int:
    """DM each newcomer of the pilot; returns how many were welcomed. A DM Slack refuses (the
    person is gone, DMs closed) is logged and skipped: joining does not depend on it."""
    user_ids = list(user_ids)
    if not user_ids:
        return 0
    now = utcnow()
    with db.session() as session:
        pilot = get_pilot(session, pilot_name)
        people = session.exec(
            select(Participant).where(
                Participant.pilot_id == pilot.id, Participant.slack_user_id.in_(user_ids)
            )
        ).all()
    next_pulse = next_instant(pilot, Slot.PULSE, now)
    welcomed = 0
    for person in people:
        shown = local_when(next_pulse, person.slack_tz, pilot.timezone)
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
