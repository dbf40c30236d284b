"""Setting a pilot up from Slack: what the New/Edit pilot form says, checked quickly enough to
answer the form inside Slack's three seconds with an error beside each field that is wrong,
then created or changed after Slack has been answered (a big channel's members take longer).
Nothing is created until the form is valid."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.errors import slack_error_code
from bot.pilots.champion import Action, may
from bot.pilots.goal import GOAL_METRICS, goals_of
from bot.pilots.membership import participants
from bot.pilots.pilot import MIN_GROUP_FLOOR, CreateResult, PilotSpec, create_pilot, find_pilot
from bot.pilots.schedule import Slot, when
from bot.pilots.update import PilotUpdate, update_pilot
from bot.views.setup import PilotForm
from storage import Database
from storage.models import Pilot, Role

# The fields a form error is about (the view maps them to its blocks).
NAME, TOOL, LEADERSHIP, MEMBERS, MIN_GROUP = (
    "name",
    "tool",
    "leadership_channel",
    "members",
    "min_group_size",
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


def _head_count(client: WebClient, draft: PilotForm) -> int:
    """About how many people the form brings in, counted cheaply (the channel's count from
    Slack, the group's list, the people picked); each is looked up after the form closes."""
    count = len(set(draft.members))
    if draft.members_channel:
        info = client.conversations_info(channel=draft.members_channel, include_num_members=True)
        # The bot is one of them.
        count += max(0, int(info["channel"].get("num_members") or 0) - 1)
    if draft.members_group:
        count += len(client.usergroups_users_list(usergroup=draft.members_group).get("users", []))
    return count


def check_draft(
    db: Database, client: WebClient, draft: PilotForm, *, editing: str | None
) -> dict[str, str]:
    """What is wrong with the form, by field; empty when it may be created (or saved)."""
    errors: dict[str, str] = {}
    name = draft.name.strip()
    if editing is None:
        if not name or len(name) > 80:
            errors[NAME] = "Give the pilot a name of 1 to 80 characters."
        else:
            with db.session() as session:
                if find_pilot(session, name) is not None:
                    errors[NAME] = f"A pilot called {name!r} exists already; choose another name."
    if not draft.tool.strip():
        errors[TOOL] = "Say which AI tool the pilot is about."
    if not draft.leadership_channel:
        errors[LEADERSHIP] = "Choose the channel where leadership reads the weekly digest."
    else:
        problem = _channel_problem(client, draft.leadership_channel)
        if problem:
            errors[LEADERSHIP] = problem
    if draft.min_group_size < MIN_GROUP_FLOOR:
        errors[MIN_GROUP] = f"At least {MIN_GROUP_FLOOR}, so that no figure points at a person."
    if editing is None or draft.members or draft.members_channel or draft.members_group:
        try:
            count = _head_count(client, draft)
        except SlackApiError as exc:
            errors[MEMBERS] = f"Slack couldn't list those members ({slack_error_code(exc)})."
        else:
            if count == 0 and editing is None:
                errors[MEMBERS] = "Choose a channel, a user group or people."
            elif editing is None and count < draft.min_group_size:
                errors[MEMBERS] = (
                    f"That is {count} {'person' if count == 1 else 'people'}: a pilot needs at "
                    f"least its minimum group of {draft.min_group_size}, or no figure can ever "
                    "be shown."
                )
    return errors


def spec_of(draft: PilotForm, creator: str) -> PilotSpec:
    """The pilot to create; whoever set it up from Slack is its admin."""
    return PilotSpec(
        name=draft.name.strip(),
        tool=draft.tool.strip(),
        leadership_channel=draft.leadership_channel or "",
        members=draft.members,
        members_from_channel=draft.members_channel,
        members_from_group=draft.members_group,
        champions=tuple(c for c in draft.champions if c != creator),
        admins=(creator,),
        min_group_size=draft.min_group_size,
        workflow=draft.workflow or None,
        goals=tuple((k, v) for k, v in draft.goals if k in GOAL_METRICS),
    )


def update_of(draft: PilotForm) -> PilotUpdate:
    """The change the Edit form asks for: everything it shows, as it shows it."""
    return PilotUpdate(
        tool=draft.tool.strip(),
        workflow=draft.workflow,
        leadership_channel=draft.leadership_channel,
        min_group_size=draft.min_group_size,
        members=draft.members,
        members_from_channel=draft.members_channel,
        members_from_group=draft.members_group,
        champions=draft.champions,
        goals=tuple((k, v) for k, v in draft.goals if k in GOAL_METRICS),
        schedule=tuple(
            (Slot(slot), weekday, (hour, minute)) for slot, weekday, hour, minute in draft.schedule
        ),
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
    )


def create_from(
    db: Database, client: WebClient, draft: PilotForm, creator: str, now: datetime
) -> CreateResult:
    """Create the pilot the form describes (its people looked up now: this runs after Slack has
    been answered), then give it the form's schedule."""
    result = create_pilot(db, client, spec_of(draft, creator))
    if result.created and draft.schedule:
        update_pilot(
            db, client, result.pilot.name, PilotUpdate(schedule=update_of(draft).schedule), now
        )
    return result
