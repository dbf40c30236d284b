"""Changing a pilot over its weeks: its settings, people, roles, goals and schedule
(`pilot update`, the Edit modal), following its channel or user group (events and the daily
reconciliation), and ending it (`pilot end`).

Every change is checked before anything is written, then written in one transaction, and says
what it changed; a change that changes nothing says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk import WebClient
from sqlalchemy import update
from sqlmodel import Session, select

from bot.errors import PulseError
from bot.pilots.calendar import WEEKDAYS, format_holidays, format_working_days
from bot.pilots.goal import goals_of, set_goals
from bot.pilots.membership import (
    Membership,
    add_members,
    deactivated,
    follow,
    newcomers,
    participants,
    remove_members,
    source_members,
)
from bot.pilots.participant import Person, resolve_people
from bot.pilots.period import zone
from bot.pilots.pilot import (
    MIN_GROUP_FLOOR,
    check_calendar,
    check_ids,
    check_leadership_channel,
    get_pilot,
)
from bot.pilots.schedule import Slot, When, set_when, when
from bot.privacy.names import remember
from storage import Database
from storage.models import (
    Checkin,
    CheckinStatus,
    Delivery,
    DeliveryStatus,
    Participant,
    Pilot,
    Role,
    Round,
)


@dataclass(frozen=True)
class PilotUpdate:
    """What an operator or champion asks to change; None (or empty) leaves a thing as it is."""

    tool: str | None = None
    workflow: str | None = None
    leadership_channel: str | None = None
    timezone: str | None = None
    min_group_size: int | None = None
    members: tuple[str, ...] | None = None  # the people named by hand, all of them
    members_from_channel: str | None = None
    members_from_group: str | None = None
    add_members: tuple[str, ...] = ()
    remove_members: tuple[str, ...] = ()
    champions: tuple[str, ...] | None = None  # all the champions
    add_champions: tuple[str, ...] = ()
    remove_champions: tuple[str, ...] = ()
    admins: tuple[str, ...] | None = None
    goals: tuple[tuple[str, float], ...] = ()
    # Slot → (weekday or None, (hour, minute) or None)
    schedule: tuple[tuple[Slot, int | None, tuple[int, int] | None], ...] = ()
    working_days: int | None = None  # bit i for weekday i (0 = Monday)
    holidays: tuple[str, ...] | None = None  # all of them, as ISO dates; () clears them

    def people_named(self) -> list[str]:
        """Everyone the change names, to look up before anything is written."""
        return [
            *(self.members or ()),
            *self.add_members,
            *(self.champions or ()),
            *self.add_champions,
            *(self.admins or ()),
        ]


def check_update(change: PilotUpdate) -> None:
    """Refuse a change that cannot be made, before Slack is asked anything."""
    for option, value in (
        ("--leadership-channel", change.leadership_channel),
        ("--members-from-channel", change.members_from_channel),
    ):
        if value is not None and not value.startswith(("C", "G")):
            raise PulseError(f"{option}: expected a channel ID such as C0123ABCD, got {value!r}")
    if change.members_from_group is not None and not change.members_from_group.startswith("S"):
        raise PulseError(
            f"--members-from-group: expected a user group ID such as S0123ABCD, "
            f"got {change.members_from_group!r}"
        )
    for option, ids in (
        ("--members", change.members or ()),
        ("--add-members", change.add_members),
        ("--remove-members", change.remove_members),
        ("--champions", change.champions or ()),
        ("--add-champions", change.add_champions),
        ("--remove-champions", change.remove_champions),
        ("--admins", change.admins or ()),
    ):
        check_ids(option, ids)
    if change.min_group_size is not None and change.min_group_size < MIN_GROUP_FLOOR:
        raise PulseError(
            f"--min-group-size: at least {MIN_GROUP_FLOOR}, so that no figure can point at a person"
        )
    if change.timezone is not None:
        zone(change.timezone)
    if change.tool is not None and not change.tool.strip():
        raise PulseError("--tool: say which AI tool the pilot adopts")
    if change.working_days is not None and not 1 <= change.working_days <= 127:
        raise PulseError("--working-days: expected at least one working day, such as mon-fri")


@dataclass
class UpdateResult:
    pilot: str
    changes: list[str] = field(default_factory=list)
    membership: Membership = field(default_factory=Membership)


def _roles(
    session: Session,
    pilot: Pilot,
    role: Role,
    target: set[str] | None,
    add: Iterable[str],
    remove: Iterable[str],
    people: dict[str, Person],
    now: datetime,
) -> tuple[list[str], list[str]]:
    """Give `role` to exactly `target` (or add/remove some); returns (given, taken)."""
    existing = participants(session, pilot.id)
    current = {u for u, row in existing.items() if row.role == role and row.left_at is None}
    wanted = set(target) if target is not None else set(current)
    wanted = (wanted | set(add)) - set(remove)
    given = sorted(wanted - current)
    taken = sorted(current - wanted)
    for user_id in given:
        if user_id not in people and user_id not in existing:
            continue  # not a person the bot can see (left out, and said so)
        row = existing.get(user_id) or Participant(
            pilot_id=pilot.id, slack_user_id=user_id, surveyed=False, named=True, joined_at=now
        )
        person = people.get(user_id)
        if person is not None:
            row.real_name, row.display_name = person.real_name, person.display_name
            row.slack_tz = person.tz or row.slack_tz
        row.role, row.left_at = role, None
        session.add(row)
    for user_id in taken:
        row = existing[user_id]
        row.role = Role.MEMBER
        if not row.surveyed:
            row.left_at = now  # was there only to see the figures
        session.add(row)
    return given, taken


def _setting(pilot: Pilot, name: str, label: str, value: object, changes: list[str]) -> None:
    """Set one of the pilot's settings if asked and different, and say so."""
    before = getattr(pilot, name)
    if value is not None and value != before:
        setattr(pilot, name, value)
        changes.append(f"{label}: {'none' if before is None else before} → {value}")


def _calendar(pilot: Pilot, change: PilotUpdate, changes: list[str]) -> None:
    """Set the pilot's working days and holidays if asked and different, and say so."""
    before = pilot.working_days or WEEKDAYS
    if change.working_days is not None and change.working_days != before:
        pilot.working_days = change.working_days
        changes.append(
            f"working days: {format_working_days(before)} → "
            f"{format_working_days(change.working_days)}"
        )
    if change.holidays is None:
        return
    wanted, held = sorted(set(change.holidays)), sorted(pilot.holidays or ())
    if wanted != held:
        # A new list, not the old one changed in place: a JSON column is saved when replaced.
        pilot.holidays = wanted or None
        changes.append(f"holidays: {format_holidays(held)} → {format_holidays(wanted)}")


def update_pilot(
    db: Database, client: WebClient, pilot_name: str, change: PilotUpdate, now: datetime
) -> UpdateResult:
    """Apply `change` to the pilot; `result.changes` says what changed (empty: nothing did)."""
    check_update(change)
    with db.session() as session:
        pilot = get_pilot(session, pilot_name)
    if pilot.ended_at is not None:
        raise PulseError(f"pilot {pilot.name!r} has ended; it can no longer change")
    if change.working_days is not None or change.holidays is not None:
        # The calendar as it will be, before Slack is asked anything.
        check_calendar(
            change.working_days or pilot.working_days or WEEKDAYS,
            change.holidays if change.holidays is not None else pilot.holidays or (),
            now.date(),
        )
    # Slack first, outside any transaction: the channel, the sources, the people named.
    if change.leadership_channel and change.leadership_channel != pilot.leadership_channel:
        check_leadership_channel(client, change.leadership_channel)
    channel = change.members_from_channel or pilot.member_channel_id
    group = change.members_from_group or pilot.member_group_id
    sources_changed = (channel, group) != (pilot.member_channel_id, pilot.member_group_id)
    in_sources = source_members(client, channel, group) if sources_changed else None
    result = UpdateResult(pilot.name)
    membership = result.membership
    named = change.people_named()
    app_user_id = client.auth_test().get("user_id") if named or in_sources else None
    people = resolve_people(client, named, app_user_id=app_user_id).people if named else {}
    membership.left_out.update(
        {u: "not a person the bot can message" for u in named if u not in people}
    )
    wanted: dict[str, Person] = {}
    if in_sources is not None:
        with db.session() as session:
            wanted = newcomers(
                client, session, pilot, in_sources, app_user_id=app_user_id, change=membership
            )

    with db.transaction() as session:
        pilot = get_pilot(session, pilot_name)
        changes = result.changes
        _setting(pilot, "tool", "tool", change.tool and change.tool.strip(), changes)
        _setting(pilot, "workflow", "workflow", change.workflow, changes)
        _setting(
            pilot, "leadership_channel", "leadership channel", change.leadership_channel, changes
        )
        _setting(pilot, "timezone", "time zone", change.timezone, changes)
        _setting(pilot, "min_group_size", "minimum group", change.min_group_size, changes)
        for slot, weekday, at in change.schedule:
            before = when(pilot, slot)
            after = When(
                before.weekday if weekday is None else weekday,
                *(at if at is not None else (before.hour, before.minute)),
            )
            if after != before:
                set_when(pilot, slot, after)
                changes.append(f"{slot}: {before} → {after}")
        _calendar(pilot, change, changes)
        _setting(
            pilot, "member_channel_id", "follows channel", change.members_from_channel, changes
        )
        _setting(pilot, "member_group_id", "follows user group", change.members_from_group, changes)
        before_goals = goals_of(session, pilot.id)
        goals = {k: v for k, v in change.goals if before_goals.get(k) != v}
        if goals:
            set_goals(session, pilot, goals)
            changes += [
                f"goal {k}: {before_goals.get(k, 'none')} → {v:g}" for k, v in goals.items()
            ]
        session.add(pilot)
        session.flush()

        # People named by hand: all of them (`members`), or some added and some taken off.
        hand = [people[u] for u in [*(change.members or ()), *change.add_members] if u in people]
        add_members(session, pilot, hand, now, named=True, change=membership)
        if change.members is not None:
            gone = [
                u
                for u, row in participants(session, pilot.id).items()
                if row.named and row.surveyed and row.left_at is None and u not in change.members
            ]
            remove_members(session, pilot, gone, now, membership)
        remove_members(session, pilot, change.remove_members, now, membership)
        if in_sources is not None:
            follow(session, pilot, wanted, set(in_sources), now, membership)
        for role, target, add, remove in (
            (Role.CHAMPION, change.champions, change.add_champions, change.remove_champions),
            (Role.ADMIN, change.admins, (), ()),
        ):
            given, taken = _roles(
                session,
                pilot,
                role,
                set(target) if target is not None else None,
                add,
                remove,
                people,
                now,
            )
            changes += [f"{role}: +{u}" for u in given] + [f"{role}: −{u}" for u in taken]
        if membership.joined:
            changes.append(f"members: +{len(membership.joined)} ({', '.join(membership.joined)})")
        if membership.left:
            changes.append(f"members: −{len(membership.left)} ({', '.join(membership.left)})")
        known = [*people.values(), *wanted.values()]
        if known:
            remember(session, [(p.user_id, p.real_name, p.display_name) for p in known], now)
    return result


def reconcile(
    db: Database, client: WebClient, pilot: Pilot, now: datetime, gone: set[str]
) -> Membership:
    """Bring a pilot in line with its channel or group, and drop the deactivated accounts in
    `gone` (the daily reconciliation, for events that were missed)."""
    change = Membership()
    in_sources = source_members(client, pilot.member_channel_id, pilot.member_group_id)
    wanted: dict[str, Person] = {}
    if in_sources is not None:
        app_user_id = client.auth_test().get("user_id")
        with db.session() as session:
            wanted = newcomers(
                client,
                session,
                pilot,
                set(in_sources) - gone,
                app_user_id=app_user_id,
                change=change,
            )
    with db.transaction() as session:
        if in_sources is not None:
            follow(session, pilot, wanted, set(in_sources) - gone, now, change)
        remove_members(session, pilot, sorted(gone), now, change)
    return change


def member_joined(
    db: Database, client: WebClient, channel_id: str, user_id: str, now: datetime
) -> list[Pilot]:
    """Someone joined a channel: the active pilots that follow it gain them (when they are a
    person the bot can message). Returns the pilots they joined, to welcome them."""
    with db.session() as session:
        pilots = list(
            session.exec(
                select(Pilot).where(Pilot.member_channel_id == channel_id, Pilot.ended_at.is_(None))
            ).all()
        )
    joined = []
    for pilot in pilots:
        change = Membership()
        with db.session() as session:
            people = newcomers(
                client,
                session,
                pilot,
                [user_id],
                app_user_id=client.auth_test().get("user_id"),
                change=change,
            )
        with db.transaction() as session:
            add_members(session, pilot, people.values(), now, named=False, change=change)
        if change.joined:
            joined.append(pilot)
    return joined


def member_left(db: Database, channel_id: str, user_id: str, now: datetime) -> int:
    """Someone left a channel: no more rounds from the pilots that follow it (unless they were
    named by hand). Returns how many pilots they left."""
    left = 0
    with db.transaction() as session:
        pilots = session.exec(
            select(Pilot).where(Pilot.member_channel_id == channel_id, Pilot.ended_at.is_(None))
        ).all()
        for pilot in pilots:
            row = participants(session, pilot.id).get(user_id)
            if row is None or row.named:
                continue
            change = Membership()
            remove_members(session, pilot, [user_id], now, change)
            left += bool(change.left)
    return left


@dataclass
class EndResult:
    pilot: str
    ended: bool  # False: it had ended before
    rounds_closed: int = 0
    messages_cancelled: int = 0


def end_pilot(db: Database, pilot_name: str, now: datetime) -> EndResult:
    """End the pilot: no more jobs, rounds or DMs. Its open rounds and check-ins close now and
    messages not yet sent are cancelled; everything people said stays, for the report and the
    last digest."""
    with db.transaction() as session:
        pilot = get_pilot(session, pilot_name)
        if pilot.ended_at is not None:
            return EndResult(pilot.name, ended=False)
        pilot.ended_at = now
        session.add(pilot)
        rounds = select(Round.id).where(Round.pilot_id == pilot.id).scalar_subquery()
        closed = session.execute(
            update(Round)
            .where(Round.pilot_id == pilot.id, Round.closes_at > now)
            .values(closes_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        cancelled = session.execute(
            update(Delivery)
            .where(
                Delivery.round_id.in_(rounds),
                Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]),
            )
            .values(status=DeliveryStatus.SKIPPED, failure_reason="pilot ended", claimed_by=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        session.execute(
            update(Checkin)
            .where(Checkin.round_id.in_(rounds), Checkin.status == CheckinStatus.OPEN)
            .values(status=CheckinStatus.EXPIRED, closed_at=now)
            .execution_options(synchronize_session=False)
        )
    return EndResult(pilot.name, True, closed or 0, cancelled or 0)


def reconcile_all(db: Database, client: WebClient, now: datetime) -> dict[str, Membership]:
    """The daily reconciliation of every active pilot: each followed channel or group, and the
    workspace's deactivated accounts."""
    with db.session() as session:
        pilots = list(session.exec(select(Pilot).where(Pilot.ended_at.is_(None))).all())
    if not pilots:
        return {}
    gone = deactivated(client)
    return {pilot.name: reconcile(db, client, pilot, now, gone) for pilot in pilots}
