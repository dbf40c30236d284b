"""Who is in a pilot, as the team changes: people named by hand, and the members of the channel
or user group the pilot follows. People who join are added (and welcomed by the caller);
people who leave get no more rounds, and their past answers stay in the totals; deactivated
accounts are dropped at the daily reconciliation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session, select

from bot.errors import PulseError, slack_error_code
from bot.pilots.participant import SLACKBOT, Person, channel_members, resolve_people
from storage.models import Participant, Pilot, Role


def group_members(client: WebClient, group_id: str) -> list[str]:
    """The members of a user group (`usergroups.users.list`; Slack does not page it)."""
    try:
        return list(client.usergroups_users_list(usergroup=group_id).get("users") or [])
    except SlackApiError as exc:
        error = slack_error_code(exc)
        if error in ("no_such_subteam", "invalid_arguments", "subteam_not_found"):
            raise PulseError(
                f"--members-from-group: no user group {group_id} the bot can see ({error})"
            ) from None
        if error == "missing_scope":
            raise PulseError(
                "--members-from-group: the app needs the usergroups:read scope; add it in the "
                "app's settings (manifest.json has it) and reinstall the app"
            ) from None
        raise PulseError(f"cannot list the user group {group_id} ({error})") from None


def source_members(client: WebClient, channel: str | None, group: str | None) -> list[str] | None:
    """Everyone in the channel and the user group a pilot follows; None when it follows
    neither."""
    if not channel and not group:
        return None
    found: list[str] = []
    if channel:
        found += channel_members(client, channel)
    if group:
        found += group_members(client, group)
    return list(dict.fromkeys(found))


@dataclass
class Membership:
    """What a change did to a pilot's people."""

    joined: list[str] = field(default_factory=list)  # new or back, and surveyed
    left: list[str] = field(default_factory=list)  # no more rounds
    left_out: dict[str, str] = field(default_factory=dict)  # looked up, not a person

    def __bool__(self) -> bool:
        return bool(self.joined or self.left)


def participants(session: Session, pilot_id: int) -> dict[str, Participant]:
    rows = session.exec(select(Participant).where(Participant.pilot_id == pilot_id)).all()
    return {row.slack_user_id: row for row in rows}


def add_members(
    session: Session,
    pilot: Pilot,
    people: Iterable[Person],
    now: datetime,
    *,
    named: bool,
    change: Membership,
) -> None:
    """Make each person a surveyed member (again); their names are kept fresh for scrubbing."""
    existing = participants(session, pilot.id)
    for person in people:
        row = existing.get(person.user_id)
        if row is None:
            row = Participant(
                pilot_id=pilot.id, slack_user_id=person.user_id, role=Role.MEMBER, joined_at=now
            )
        back = row.id is None or row.left_at is not None or not row.surveyed
        row.surveyed, row.left_at = True, None
        row.named = row.named or named
        row.real_name, row.display_name = person.real_name, person.display_name
        row.slack_tz = person.tz or row.slack_tz
        session.add(row)
        if back:
            change.joined.append(person.user_id)


def remove_members(
    session: Session, pilot: Pilot, user_ids: Iterable[str], now: datetime, change: Membership
) -> None:
    """No more rounds for these people. A champion or admin keeps their role and stops being
    surveyed; a member leaves the pilot. What they answered stays in the totals."""
    existing = participants(session, pilot.id)
    for user_id in user_ids:
        row = existing.get(user_id)
        if row is None or row.left_at is not None or not row.surveyed:
            continue
        if row.role == Role.MEMBER:
            row.left_at = now
        else:
            row.surveyed = False
        session.add(row)
        change.left.append(user_id)


def follow(
    session: Session,
    pilot: Pilot,
    wanted: Mapping[str, Person],
    in_sources: set[str],
    now: datetime,
    change: Membership,
) -> None:
    """Bring the pilot in line with its channel and group: `wanted` (looked up, real people)
    join; members who came from them and are no longer in `in_sources` leave. People named by
    hand stay."""
    add_members(session, pilot, wanted.values(), now, named=False, change=change)
    gone = [
        user_id
        for user_id, row in participants(session, pilot.id).items()
        if row.surveyed and row.left_at is None and not row.named and user_id not in in_sources
    ]
    remove_members(session, pilot, gone, now, change)


def newcomers(
    client: WebClient,
    session: Session,
    pilot: Pilot,
    user_ids: Iterable[str],
    *,
    app_user_id: str | None,
    change: Membership,
) -> dict[str, Person]:
    """The people among `user_ids` who are not surveyed members yet, looked up with
    `users.info` (bots, deactivated accounts and the app itself are left out)."""
    existing = participants(session, pilot.id)
    unknown = [
        u
        for u in dict.fromkeys(user_ids)
        if u != SLACKBOT
        and (u not in existing or existing[u].left_at is not None or not existing[u].surveyed)
    ]
    if not unknown:
        return {}
    roster = resolve_people(client, unknown, app_user_id=app_user_id)
    change.left_out.update(roster.left_out)
    return roster.people


def deactivated(client: WebClient) -> set[str]:
    """Everyone Slack lists as deactivated, from every page of `users.list`."""
    return {
        user["id"]
        for page in client.users_list(limit=200)
        for user in page.get("members", [])
        if user.get("deleted")
    }
