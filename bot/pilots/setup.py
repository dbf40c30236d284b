"""Setting a pilot up from Slack: what the New/Edit pilot form says, checked quickly enough to
answer the form inside Slack's three seconds with an error beside each field that is wrong,
then created or changed after Slack has been answered (a big channel's members take longer).
Nothing is created until the form is valid."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.errors import PulseError, slack_error_code
from bot.pilots.calendar import WEEKDAYS, parse_holidays
from bot.pilots.champion import Action, may
from bot.pilots.goal import GOAL_METRICS, goals_of
from bot.pilots.membership import participants
from bot.pilots.pilot import (
    MIN_GROUP_FLOOR,
    CreateResult,
    PilotSpec,
    create_pilot,
    find_pilot,
    has_working_day,
)
from bot.pilots.schedule import Slot, When, when
from bot.pilots.update import PilotUpdate
from bot.views.setup import PilotForm
from storage import Database
from storage.models import Pilot, Role
from storage.types import utcnow

# The fields a form error is about (the view maps them to its blocks).
NAME, TOOL, LEADERSHIP, MEMBERS, MIN_GROUP, HOLIDAYS = (
    "name",
    "tool",
    "leadership_channel",
    "members",
    "min_group_size",
    "holidays",
)


def _channel_problem(client: WebClient, channel_id: str) -> str | None:
    """Why the bot cannot post to the leadership channel, in words for the person filling the
    form; None when it can."""
    invite = "Invite the bot there first (/invite @pilot-pulse), then send this again."
    try:
        channel = client.conversations_info(channel=channel_id)["channel"]
    except SlackApiError as exc:
        if slack_error_code(exc) == "channel_not_found":
            return f"The bot can't see that channel. {invite}"
        return f"Slack couldn't check that channel ({slack_error_code(exc)}). Try again."
    if channel.get("is_archived"):
        return "That channel is archived; choose a live one."
    if not channel.get("is_member"):
        return f"The bot isn't in <#{channel_id}> yet. {invite}"
    return None


def _head_count(client: WebClient, form: PilotForm) -> int:
    """About how many people the form brings in, counted cheaply (the channel's count from
    Slack, the group's list, the people picked); each is looked up after the form closes."""
    count = len(set(form.members))
    if form.members_channel:
        info = client.conversations_info(channel=form.members_channel, include_num_members=True)
        # The bot is one of them.
        count += max(0, int(info["channel"].get("num_members") or 0) - 1)
    if form.members_group:
        count += len(client.usergroups_users_list(usergroup=form.members_group).get("users", []))
    return count


def _holidays_problem(form: PilotForm, today: date) -> str | None:
    """Why the form's holidays cannot be read or used, in words for the person filling it."""
    if not form.holidays:
        return None
    try:
        days = parse_holidays(form.holidays, "Holidays")
    except PulseError:
        # Named: in a list of twenty dates, the one that is wrong is hard to spot.
        pieces = form.holidays.replace(",", " ").split()
        wrong = next((p for p in pieces if not _is_date(p)), form.holidays)
        return (
            f"{wrong[:40]!r} is not a date: write dates as YYYY-MM-DD, separated by commas "
            "(e.g. 2026-12-24, 2026-12-25)."
        )
    if not has_working_day(form.working_days or WEEKDAYS, days, today):
        return "With these holidays nobody works for over two years: remove some."
    return None


def _is_date(text: str) -> bool:
    try:
        return bool(parse_holidays(text))
    except PulseError:
        return False


def check_form(
    db: Database, client: WebClient, form: PilotForm, *, editing: str | None
) -> dict[str, str]:
    """What is wrong with the form, by field; empty when it may be created (or saved)."""
    errors: dict[str, str] = {}
    holidays = _holidays_problem(form, utcnow().date())
    if holidays:
        errors[HOLIDAYS] = holidays
    name = form.name.strip()
    if editing is None:
        if not name or len(name) > 80:
            errors[NAME] = "Give the pilot a name of 1 to 80 characters."
        else:
            with db.session() as session:
                if find_pilot(session, name) is not None:
                    errors[NAME] = f"A pilot called {name!r} exists already; choose another name."
    if not form.tool.strip():
        errors[TOOL] = "Say which AI tool the pilot is about."
    if not form.leadership_channel:
        errors[LEADERSHIP] = "Choose the channel where leadership reads the weekly digest."
    else:
        problem = _channel_problem(client, form.leadership_channel)
        if problem:
            errors[LEADERSHIP] = problem
    if form.min_group_size < MIN_GROUP_FLOOR:
        errors[MIN_GROUP] = f"At least {MIN_GROUP_FLOOR}, so that no figure points at a person."
    if editing is None or form.members or form.members_channel or form.members_group:
        try:
            count = _head_count(client, form)
        except SlackApiError as exc:
            errors[MEMBERS] = f"Slack couldn't list those members ({slack_error_code(exc)})."
        else:
            if count == 0 and editing is None:
                errors[MEMBERS] = "Choose a channel, a user group or people."
            elif editing is None and count < form.min_group_size:
                errors[MEMBERS] = (
                    f"That is {count} {'person' if count == 1 else 'people'}: a pilot needs at "
                    f"least its minimum group of {form.min_group_size}, or no figure can ever "
                    "be shown."
                )
    return errors


def spec_of(form: PilotForm, creator: str) -> PilotSpec:
    """The pilot to create; whoever set it up from Slack is its admin."""
    return PilotSpec(
        name=form.name.strip(),
        tool=form.tool.strip(),
        leadership_channel=form.leadership_channel or "",
        members=form.members,
        members_from_channel=form.members_channel,
        members_from_group=form.members_group,
        champions=tuple(c for c in form.champions if c != creator),
        admins=(creator,),
        min_group_size=form.min_group_size,
        workflow=form.workflow or None,
        goals=tuple((k, v) for k, v in form.goals if k in GOAL_METRICS),
        schedule=tuple(
            (Slot(slot), When(weekday, hour, minute))
            for slot, weekday, hour, minute in form.schedule
        ),
        working_days=form.working_days or WEEKDAYS,
        holidays=tuple(parse_holidays(form.holidays or "")),
    )


def update_of(form: PilotForm) -> PilotUpdate:
    """The change the Edit form asks for: everything it shows, as it shows it."""
    return PilotUpdate(
        tool=form.tool.strip(),
        workflow=form.workflow,
        leadership_channel=form.leadership_channel,
        min_group_size=form.min_group_size,
        members=form.members,
        members_from_channel=form.members_channel,
        members_from_group=form.members_group,
        champions=form.champions,
        goals=tuple((k, v) for k, v in form.goals if k in GOAL_METRICS),
        schedule=tuple(
            (Slot(slot), weekday, (hour, minute)) for slot, weekday, hour, minute in form.schedule
        ),
        working_days=form.working_days,
        # The holidays shown are all of them: an emptied input clears them.
        holidays=tuple(parse_holidays(form.holidays)) if form.holidays is not None else None,
    )


def may_set_up(
    db: Database, slack_user_id: str, editing: str | None, *, admins: Collection[str] = ()
) -> tuple[bool, Pilot | None]:
    """Whether the person may fill the form: create a pilot (`editing` None), or edit the pilot
    it names, which must exist and not have ended. Returns (allowed, that pilot)."""
    with db.session() as session:
        if editing is None:
            return may(session, slack_user_id, Action.CREATE, admins=admins), None
        pilot = find_pilot(session, editing)
        allowed = (
            pilot is not None
            and pilot.ended_at is None
            and may(session, slack_user_id, Action.EDIT, pilot, admins=admins)
        )
        return allowed, pilot


def form_of(session: Session, pilot: Pilot) -> PilotForm:
    """The pilot as the Edit form shows it."""
    here = [row for row in participants(session, pilot.id).values() if row.left_at is None]
    return PilotForm(
        name=pilot.name,
        tool=pilot.tool,
        workflow=pilot.workflow,
        leadership_channel=pilot.leadership_channel,
        members_channel=pilot.member_channel_id,
        members_group=pilot.member_group_id,
        members=tuple(sorted(r.slack_user_id for r in here if r.named and r.surveyed)),
        champions=tuple(sorted(r.slack_user_id for r in here if r.role == Role.CHAMPION)),
        min_group_size=pilot.min_group_size,
        goals=tuple(goals_of(session, pilot.id).items()),
        schedule=tuple(
            (str(slot), at.weekday, at.hour, at.minute)
            for slot in (Slot.PULSE, Slot.CHECKIN, Slot.DIGEST)
            for at in (when(pilot, slot),)
        ),
        working_days=pilot.working_days or WEEKDAYS,
        holidays=", ".join(pilot.holidays or ()),
    )


def create_from(
    db: Database, client: WebClient, form: PilotForm, creator: str, now: datetime
) -> CreateResult:
    """Create the pilot the form describes, schedule and all, in one transaction (its people
    are looked up first: this runs after Slack has been answered)."""
    return create_pilot(db, client, spec_of(form, creator))
