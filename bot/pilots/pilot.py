"""Pilots: creating one from Slack's member lists, finding one by name, and listing them."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import and_, case, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.errors import NotFound, PulseError, slack_error_code
from bot.pilots.calendar import WEEKDAYS, WorkCalendar, format_working_days, parse_holidays
from bot.pilots.goal import set_goals
from bot.pilots.membership import source_members
from bot.pilots.participant import Person, resolve_people
from bot.pilots.period import zone
from bot.pilots.question import install_default_questions
from bot.pilots.schedule import Slot, When, set_when
from bot.privacy.names import remember
from storage import Database
from storage.models import Participant, Pilot, Role
from storage.types import utcnow

log = logging.getLogger(__name__)

MIN_GROUP_FLOOR = 3
DEFAULT_MIN_GROUP = 5


@dataclass(frozen=True)
class PilotSpec:
    """What an operator asks for when creating a pilot."""

    name: str
    tool: str
    leadership_channel: str
    members: tuple[str, ...] = ()
    members_from_channel: str | None = None
    members_from_group: str | None = None
    champions: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()
    timezone: str | None = None
    min_group_size: int = DEFAULT_MIN_GROUP
    workflow: str | None = None
    goals: tuple[tuple[str, float], ...] = ()  # (metric, target), checked by parse_goal
    schedule: tuple[tuple[Slot, When], ...] = ()  # slots other than the defaults
    working_days: int = WEEKDAYS  # bit i for weekday i (0 = Monday)
    holidays: tuple[str, ...] = ()  # ISO dates


@dataclass(frozen=True)
class PilotSummary:
    name: str
    tool: str
    leadership_channel: str
    timezone: str
    min_group_size: int
    members: int
    champions: int
    created: str
    status: str = "active"  # or "ended"
    working_days: str = "Mon–Fri"  # as people read it
    holidays: tuple[str, ...] = ()  # ISO dates


def split_ids(value: str | None) -> tuple[str, ...]:
    """`U1, U2,U3` → ("U1", "U2", "U3"), duplicates removed, order kept."""
    if not value:
        return ()
    seen: dict[str, None] = {}
    for part in value.split(","):
        part = part.strip()
        if part:
            seen[part] = None
    return tuple(seen)


def check_ids(option: str, ids: Iterable[str]) -> None:
    """Refuse anything in `ids` that is not a Slack user ID."""
    for user_id in ids:
        if not user_id.startswith(("U", "W")):
            raise PulseError(f"{option}: expected user IDs such as U0123ABCD, got {user_id!r}")


def has_working_day(working_days: int, holidays: Iterable[str], today: date) -> bool:
    """Whether people work on some day soon after `today`: a calendar whose holidays cover
    every working day for years would leave the clock nothing to send on."""
    if not 1 <= working_days <= 127:
        return False
    try:
        WorkCalendar.of(working_days, holidays).next_working(today)
    except PulseError:
        return False
    return True


def check_calendar(working_days: int, holidays: Collection[str], today: date) -> None:
    """Refuse working days and holidays on which nobody ever works."""
    if not 1 <= working_days <= 127:
        raise PulseError("--working-days: expected at least one working day, such as mon-fri")
    for day in holidays:
        if parse_holidays(day, "--holidays") != [day]:  # "none" reads as no date at all
            raise PulseError(f"--holidays: expected dates as YYYY-MM-DD, got {day!r}")
    if not has_working_day(working_days, holidays, today):
        raise PulseError(
            "--holidays: with these working days and holidays nobody works for over two "
            "years; remove some holidays or add --working-days"
        )


def check_spec(spec: PilotSpec) -> None:
    """Refuse a spec that cannot make a pilot, before anything is asked of Slack."""
    if not spec.name.strip() or len(spec.name) > 80:
        raise PulseError("a pilot needs a name of 1 to 80 characters")
    if not spec.tool.strip():
        raise PulseError("--tool: say which AI tool the pilot adopts")
    if not spec.leadership_channel.startswith(("C", "G")):
        raise PulseError(
            f"--leadership-channel: expected a channel ID such as C0123ABCD, "
            f"got {spec.leadership_channel!r}"
        )
    if spec.members_from_channel is not None and not spec.members_from_channel.startswith(
        ("C", "G")
    ):
        raise PulseError(
            f"--members-from-channel: expected a channel ID such as C0123ABCD, "
            f"got {spec.members_from_channel!r}"
        )
    for option, ids in (
        ("--members", spec.members),
        ("--champions", spec.champions),
        ("--admins", spec.admins),
    ):
        check_ids(option, ids)
    if spec.members_from_group is not None and not spec.members_from_group.startswith("S"):
        raise PulseError(
            f"--members-from-group: expected a user group ID such as S0123ABCD, "
            f"got {spec.members_from_group!r}"
        )
    if not spec.members and spec.members_from_channel is None and spec.members_from_group is None:
        raise PulseError(
            "a pilot needs people: give --members, --members-from-channel and/or "
            "--members-from-group"
        )
    if spec.min_group_size < MIN_GROUP_FLOOR:
        raise PulseError(
            f"--min-group-size: at least {MIN_GROUP_FLOOR}, so that no figure can point at a person"
        )
    if spec.timezone is not None:
        zone(spec.timezone)
    check_calendar(spec.working_days, spec.holidays, utcnow().date())


def check_leadership_channel(client: WebClient, channel_id: str) -> None:
    """Make sure the bot can post the digest to `channel_id`, or say how to fix it."""
    advice = f"invite the bot to <#{channel_id}> (/invite @pilot-pulse) and run this again"
    try:
        channel = client.conversations_info(channel=channel_id)["channel"]
    except SlackApiError as exc:
        error = slack_error_code(exc)
        if error == "channel_not_found":
            raise PulseError(
                f"the bot cannot see the leadership channel {channel_id}: {advice}"
            ) from None
        raise PulseError(f"cannot check the leadership channel {channel_id} ({error})") from None
    if channel.get("is_archived"):
        raise PulseError(f"the leadership channel {channel_id} is archived; choose a live channel")
    if channel.get("is_im") or channel.get("is_mpim"):
        raise PulseError(
            f"the leadership channel {channel_id} is a direct message; choose a channel"
        )
    if not channel.get("is_member"):
        raise PulseError(
            f"the bot is not a member of the leadership channel {channel_id}: {advice}"
        )


def find_pilot(session: Session, name: str) -> Pilot | None:
    return session.exec(select(Pilot).where(Pilot.name == name)).first()


def get_pilot(session: Session, name: str) -> Pilot:
    """The pilot called `name`, or NotFound listing the ones that exist."""
    pilot = find_pilot(session, name)
    if pilot is None:
        names = session.exec(select(Pilot.name).order_by(Pilot.name)).all()
        known = (
            ", ".join(names) if names else "none yet; create one with `pilot-pulse pilot create`"
        )
        raise NotFound(f"no pilot called {name!r} (pilots: {known})")
    return pilot


def _most_common_tz(people: Iterable[Person]) -> str:
    counts = Counter(person.tz for person in people if person.tz)
    if not counts:
        return "UTC"
    tz = counts.most_common(1)[0][0]
    try:
        zone(tz)
    except ValueError:
        return "UTC"
    return tz


@dataclass
class CreateResult:
    pilot: Pilot
    created: bool
    members: int = 0
    champions: int = 0
    left_out: dict[str, str] = field(default_factory=dict)


def create_pilot(db: Database, client: WebClient, spec: PilotSpec) -> CreateResult:
    """Create the pilot of `spec` with its people, or find it unchanged if it exists already."""
    check_spec(spec)
    with db.session() as session:
        existing = find_pilot(session, spec.name)
    if existing is not None:
        return CreateResult(pilot=existing, created=False)

    # auth.test first: a refused token is then reported as such, not as a channel problem.
    app_user_id = client.auth_test().get("user_id")
    check_leadership_channel(client, spec.leadership_channel)
    member_ids = list(spec.members)
    member_ids += source_members(client, spec.members_from_channel, spec.members_from_group) or []
    roster = resolve_people(
        client, [*member_ids, *spec.champions, *spec.admins], app_user_id=app_user_id
    )
    members = [roster.people[u] for u in dict.fromkeys(member_ids) if u in roster.people]
    if not members:
        raise PulseError(
            "none of the given members is a person the bot can message; nothing created"
        )

    roles: dict[str, str] = {person.user_id: Role.MEMBER for person in members}
    for user_id in spec.champions:
        if user_id in roster.people:
            roles[user_id] = Role.CHAMPION
    for user_id in spec.admins:
        if user_id in roster.people:
            roles[user_id] = Role.ADMIN
    surveyed = {person.user_id for person in members}

    pilot = Pilot(
        name=spec.name.strip(),
        tool=spec.tool.strip(),
        workflow=spec.workflow,
        leadership_channel=spec.leadership_channel,
        timezone=spec.timezone or _most_common_tz(members),
        min_group_size=spec.min_group_size,
        # The channel and group are followed from now on, as people join and leave them.
        member_channel_id=spec.members_from_channel,
        member_group_id=spec.members_from_group,
        working_days=spec.working_days,
        holidays=sorted(set(spec.holidays)) or None,
    )
    for slot, at in spec.schedule:
        set_when(pilot, slot, at)
    try:
        with db.transaction() as session:
            session.add(pilot)
            session.flush()
            for user_id, role in roles.items():
                person = roster.people[user_id]
                session.add(
                    Participant(
                        pilot_id=pilot.id,
                        slack_user_id=user_id,
                        role=role,
                        surveyed=user_id in surveyed,
                        # Named by hand (kept whatever the channel says), or a champion only.
                        named=user_id in spec.members or user_id not in surveyed,
                        real_name=person.real_name,
                        display_name=person.display_name,
                        slack_tz=person.tz,
                    )
                )
            install_default_questions(session, pilot)
            set_goals(session, pilot, dict(spec.goals))
            # Everyone looked up, left out or not, is a name the scrubber should know.
            remember(
                session,
                [(p.user_id, p.real_name, p.display_name) for p in roster.people.values()],
                utcnow(),
            )
    except IntegrityError:
        # Another operator created the same pilot a moment ago: theirs stands, nothing changes.
        with db.session() as session:
            return CreateResult(pilot=get_pilot(session, spec.name), created=False)
    return CreateResult(
        pilot=pilot,
        created=True,
        members=len(surveyed),
        champions=sum(1 for r in roles.values() if r != Role.MEMBER),
        left_out=roster.left_out,
    )


def list_pilots(session: Session) -> list[PilotSummary]:
    """Every pilot with its head counts, counted in SQL."""
    here = Participant.left_at.is_(None)
    members = func.count(case((and_(Participant.surveyed, here), 1)))
    champions = func.count(case((and_(Participant.role != Role.MEMBER, here), 1)))
    rows = session.exec(
        select(Pilot, members, champions)
        .join(Participant, Participant.pilot_id == Pilot.id, isouter=True)
        .group_by(Pilot.id)
        .order_by(Pilot.name)
    ).all()
    return [
        PilotSummary(
            name=pilot.name,
            tool=pilot.tool,
            leadership_channel=pilot.leadership_channel,
            timezone=pilot.timezone,
            min_group_size=pilot.min_group_size,
            members=member_count,
            champions=champion_count,
            created=pilot.created_at.date().isoformat(),
            status="ended" if pilot.ended_at is not None else "active",
            working_days=format_working_days(pilot.working_days or WEEKDAYS),
            holidays=tuple(pilot.holidays or ()),
        )
        for pilot, member_count, champion_count in rows
    ]


def count_pilots(session: Session) -> int:
    """How many pilots there are, ended ones included."""
    return session.exec(select(func.count()).select_from(Pilot)).one()
