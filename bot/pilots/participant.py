"""Participants: the people of a pilot as Slack describes them, and their own choices (pause for
a while, stop these messages, start again).

A choice takes effect at once: the sender checks it just before each message goes out.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import or_, update
from sqlmodel import select

from bot.errors import PulseError, slack_error_code
from bot.pilots.calendar import WEEKDAYS
from bot.pilots.period import PeriodError, zone
from bot.pilots.schedule import Slot, next_instant
from storage import Database
from storage.models import Delivery, Participant, Pilot

PAUSE = timedelta(days=14)
# Slack's own system user, which is neither a bot nor a person.
SLACKBOT = "USLACKBOT"


def first_name(real_name: str | None, display_name: str | None) -> str | None:
    """What a DM calls the person: their display name, else the first word of their name."""
    return (display_name or (real_name or "").split(" ")[0]) or None


# -- who is in a pilot ------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """A workspace member as Slack describes them, reduced to what the pilot keeps."""

    user_id: str
    real_name: str | None = None
    display_name: str | None = None
    tz: str | None = None


@dataclass
class Roster:
    """The people resolved for a pilot, and who was left out and why."""

    people: dict[str, Person] = field(default_factory=dict)
    left_out: dict[str, str] = field(default_factory=dict)


def channel_members(client: WebClient, channel_id: str) -> list[str]:
    """Every member of a channel, across all of `conversations.members`' pages."""
    members: list[str] = []
    try:
        for page in client.conversations_members(channel=channel_id, limit=1000):
            members.extend(page.get("members", []))
    except SlackApiError as exc:
        error = slack_error_code(exc)
        if error == "channel_not_found":
            raise PulseError(
                f"--members-from-channel: the bot cannot see channel {channel_id}; "
                "invite it there (/invite @pilot-pulse) and run this again"
            ) from None
        raise PulseError(f"cannot list the members of {channel_id} ({error})") from None
    return members


def resolve_people(
    client: WebClient, user_ids: Iterable[str], *, app_user_id: str | None, workers: int = 8
) -> Roster:
    """Look up each user with `users.info`; keep real, active people and say who was left out."""
    roster = Roster()
    wanted = list(dict.fromkeys(user_ids))

    def look_up(user_id: str) -> tuple[str, dict | None, str | None]:
        try:
            return user_id, client.users_info(user=user_id)["user"], None
        except SlackApiError as exc:
            return user_id, None, slack_error_code(exc)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for user_id, user, error in pool.map(look_up, wanted):
            if user is None:
                roster.left_out[user_id] = f"not found ({error})"
            elif user_id == app_user_id:
                roster.left_out[user_id] = "this app itself"
            elif user.get("is_bot") or user_id == SLACKBOT:
                roster.left_out[user_id] = "a bot"
            elif user.get("deleted"):
                roster.left_out[user_id] = "a deactivated account"
            else:
                profile = user.get("profile") or {}
                roster.people[user_id] = Person(
                    user_id=user_id,
                    real_name=profile.get("real_name") or user.get("real_name"),
                    display_name=profile.get("display_name") or None,
                    tz=user.get("tz"),
                )
    return roster


def set_time_zone(db: Database, slack_user_id: str, timezone: str | None) -> int:
    """Someone's Slack time zone changed (Slack's `user_change`): their messages follow it from
    the next round on. Returns how many of their memberships changed; a name that is not an
    IANA time zone changes nothing (Slack's always are)."""
    if not timezone:
        return 0
    try:
        zone(timezone)
    except PeriodError:
        return 0
    with db.transaction() as session:
        changed = session.execute(
            update(Participant)
            .where(
                Participant.slack_user_id == slack_user_id,
                or_(Participant.slack_tz.is_(None), Participant.slack_tz != timezone),
            )
            .values(slack_tz=timezone)
            .execution_options(synchronize_session=False)
        ).rowcount
    return changed or 0


def refresh_time_zones(db: Database, client: WebClient) -> int:
    """Everyone's time zone again, from every page of `users.list`; returns how many
    memberships changed."""
    zones = {
        user["id"]: user["tz"]
        for page in client.users_list(limit=200)
        for user in page.get("members", [])
        if user.get("tz")
    }
    with db.session() as session:
        rows = session.exec(select(Participant.slack_user_id, Participant.slack_tz)).all()
    stale = {user for user, timezone in rows if user in zones and zones[user] != timezone}
    return sum(set_time_zone(db, user, zones[user]) for user in stale)


@dataclass(frozen=True)
class Membership:
    """One pilot a person belongs to, as their Home tab shows it."""

    participant_id: int
    pilot: str
    tool: str
    role: str
    surveyed: bool
    min_group_size: int
    paused_until: datetime | None
    opted_out: bool
    slack_tz: str | None
    pilot_timezone: str = "UTC"
    next_pulse: datetime | None = None  # None once the pilot has ended
    next_checkin: datetime | None = None
    working_days: int = WEEKDAYS  # the pilot's, bit i for weekday i (0 = Monday)
    holidays: tuple[str, ...] = ()  # the pilot's, as ISO dates


def memberships_of(db: Database, slack_user_id: str, now: datetime) -> list[Membership]:
    """Every pilot `slack_user_id` is in (and has not left), by pilot name."""

    with db.session() as session:
        rows = session.exec(
            select(Participant, Pilot)
            .join(Pilot, Pilot.id == Participant.pilot_id)
            .where(Participant.slack_user_id == slack_user_id, Participant.left_at.is_(None))
            .order_by(Pilot.name)
        ).all()
    return [
        Membership(
            participant_id=participant.id,
            pilot=pilot.name,
            tool=pilot.tool,
            role=participant.role,
            surveyed=participant.surveyed,
            min_group_size=pilot.min_group_size,
            paused_until=participant.paused_until,
            opted_out=participant.opted_out_at is not None,
            slack_tz=participant.slack_tz,
            pilot_timezone=pilot.timezone,
            next_pulse=None
            if pilot.ended_at
            else next_instant(pilot, Slot.PULSE, now, participant.slack_tz),
            next_checkin=None
            if pilot.ended_at
            else next_instant(pilot, Slot.CHECKIN, now, participant.slack_tz),
            working_days=pilot.working_days or WEEKDAYS,
            holidays=tuple(pilot.holidays or ()),
        )
        for participant, pilot in rows
    ]


# -- a person's own choices -------------------------------------------------------------------


@dataclass
class Choice:
    """A person's messages of one pilot after a choice: paused until, or stopped."""

    pilot: str
    participant_id: int
    paused_until: datetime | None
    opted_out: bool
    slack_tz: str | None


class Preference(StrEnum):
    """What a person can choose about their own messages, from any surface."""

    PAUSE = "pause"  # nothing for two weeks
    STOP = "stop"  # nothing until they start again
    RESUME = "resume"  # undo either


def _change(preference: Preference, now: datetime) -> dict[str, Any]:
    if preference == Preference.PAUSE:
        return {"paused_until": now + PAUSE}
    if preference == Preference.STOP:
        return {"opted_out_at": now, "paused_until": None}
    return {"opted_out_at": None, "paused_until": None}


def choose(
    db: Database,
    slack_user_id: str,
    preference: Preference,
    now: datetime,
    *,
    delivery_id: int | None = None,
    participant_id: int | None = None,
) -> Choice | None:
    """Apply the person's choice to the participant named by a delivery (a DM) or by their id
    (the Home tab); None unless that participant is `slack_user_id`, whose identity Slack's
    signature vouches for, so a tampered button value changes nothing."""
    query = select(Participant, Pilot).join(Pilot, Pilot.id == Participant.pilot_id)
    if delivery_id is not None:
        query = query.join(Delivery, Delivery.participant_id == Participant.id).where(
            Delivery.id == delivery_id
        )
    elif participant_id is not None:
        query = query.where(Participant.id == participant_id)
    else:
        return None
    with db.transaction() as session:
        row = session.exec(query).first()
        if row is None:
            return None
        participant, pilot = row
        if participant.slack_user_id != slack_user_id:
            return None
        for name, value in _change(preference, now).items():
            setattr(participant, name, value)
        session.add(participant)
        return Choice(
            pilot=pilot.name,
            participant_id=participant.id,
            paused_until=participant.paused_until,
            opted_out=participant.opted_out_at is not None,
            slack_tz=participant.slack_tz,
        )
