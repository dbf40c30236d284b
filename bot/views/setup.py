"""The "New pilot" / "Edit pilot" modal: every setting of a pilot as input blocks with stable
block ids (so the server can put an error under any of them), and reading it back from a
`view_submission`. Pure: data in, blocks out; nothing here decides who may do what."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.pilots.calendar import WEEKDAYS
from bot.views.blocks import Blocks, context_block, header_block, text_block
from bot.views.form import (
    FormReader,
    checkboxes,
    input_block,
    number_input,
    number_text,
    placeholder_text,
    plain_text,
    select_option,
    text_input,
)

SETUP_CALLBACK = "pilot_setup"
NEW_PILOT_ACTION = "home_new_pilot"
EDIT_PILOT_ACTION = "home_edit_pilot"  # value: the pilot's name, never trusted

NAME_BLOCK = "setup_name"
TOOL_BLOCK = "setup_tool"
WORKFLOW_BLOCK = "setup_workflow"
LEADERSHIP_BLOCK = "setup_leadership"
MEMBERS_CHANNEL_BLOCK = "setup_members_channel"
MEMBERS_GROUP_BLOCK = "setup_members_group"
MEMBERS_BLOCK = "setup_members"
CHAMPIONS_BLOCK = "setup_champions"
MIN_GROUP_BLOCK = "setup_min_group"
GOAL_USAGE_BLOCK = "setup_goal_weekly_usage"
GOAL_USEFULNESS_BLOCK = "setup_goal_usefulness"
GOAL_HOURS_BLOCK = "setup_goal_hours_saved"
PULSE_DAY_BLOCK = "setup_pulse_day"
PULSE_TIME_BLOCK = "setup_pulse_time"
CHECKIN_DAY_BLOCK = "setup_checkin_day"
CHECKIN_TIME_BLOCK = "setup_checkin_time"
DIGEST_DAY_BLOCK = "setup_digest_day"
DIGEST_TIME_BLOCK = "setup_digest_time"
WORKING_DAYS_BLOCK = "setup_working_days"
HOLIDAYS_BLOCK = "setup_holidays"
# The user-group picker's "none" choice: a single select cannot be emptied once chosen.
NO_GROUP = "-"

MIN_GROUP_LOW, MIN_GROUP_HIGH, MIN_GROUP_DEFAULT = 3, 50, 5
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SLOTS = ("pulse", "checkin", "digest")
# slot → (day block, time block)
SCHEDULE_BLOCKS: dict[str, tuple[str, str]] = {
    "pulse": (PULSE_DAY_BLOCK, PULSE_TIME_BLOCK),
    "checkin": (CHECKIN_DAY_BLOCK, CHECKIN_TIME_BLOCK),
    "digest": (DIGEST_DAY_BLOCK, DIGEST_TIME_BLOCK),
}
# slot → (weekday, hour, minute), as a pilot starts
DEFAULT_SCHEDULE: dict[str, tuple[int, int, int]] = {
    "pulse": (1, 10, 0),
    "checkin": (2, 14, 0),
    "digest": (0, 11, 0),
}
_SLOT_LABELS = {"pulse": "Pulse", "checkin": "Check-in", "digest": "Digest"}
_HOLIDAYS_LENGTH = 3000  # a plain_text_input's most: about 250 dates
_MAX_OPTIONS = 100  # a static_select's options


@dataclass(frozen=True)
class Goal:
    """A goal the modal asks for: its key (as `--goal` names it), how it is shown and read."""

    key: str
    block_id: str
    label: str
    low: float
    high: float | None
    scale: float  # shown = stored × scale (a share is shown in %)
    hint: str


_USAGE_HINT = "Share of the pilot's people who use the tool at least once a week, e.g. 70."
_USEFUL_HINT = "Average answer to 'How useful was it this week?', e.g. 3.5."
_HOURS_HINT = "Hours a week, across everyone who answered, e.g. 20."
GOALS: tuple[Goal, ...] = (
    Goal("weekly_usage", GOAL_USAGE_BLOCK, "Goal: weekly use (%)", 0, 100, 100, _USAGE_HINT),
    Goal("usefulness", GOAL_USEFULNESS_BLOCK, "Goal: usefulness (1–5)", 1, 5, 1, _USEFUL_HINT),
    Goal("hours_saved", GOAL_HOURS_BLOCK, "Goal: hours saved a week", 0, None, 1, _HOURS_HINT),
)
GOAL_BLOCKS: dict[str, str] = {goal.key: goal.block_id for goal in GOALS}


@dataclass(frozen=True)
class PilotForm:
    """A pilot's settings as the modal shows and returns them."""

    name: str = ""
    tool: str = ""
    workflow: str | None = None
    leadership_channel: str | None = None
    members_channel: str | None = None  # a channel whose members are the pilot's (followed)
    members_group: str | None = None  # a user group id (S…), followed too
    members: tuple[str, ...] = ()  # people picked by hand
    champions: tuple[str, ...] = ()
    min_group_size: int = MIN_GROUP_DEFAULT
    goals: tuple[tuple[str, float], ...] = ()  # ("weekly_usage", 0.7): shares are 0..1
    schedule: tuple[tuple[str, int, int, int], ...] = ()  # (slot, weekday 0=Mon, hour, minute)
    # Bit i for weekday i (0 = Monday); None: not in the form (Mon–Fri for a new pilot, left as
    # it is when editing).
    working_days: int | None = None
    # As typed (dates as YYYY-MM-DD, checked by `bot.pilots.setup`); "" clears them, None: not
    # in the form.
    holidays: str | None = None


# -- building ----------------------------------------------------------------------------------


def _day_select(weekday: int) -> dict[str, Any]:
    options = [select_option(day, str(index)) for index, day in enumerate(DAYS)]
    return {
        "type": "static_select",
        "placeholder": placeholder_text("Choose a day"),
        "options": options,
        "initial_option": options[weekday % 7],
    }


def _time_picker(hour: int, minute: int) -> dict[str, Any]:
    return {
        "type": "timepicker",
        "placeholder": placeholder_text("Choose a time"),
        "initial_time": f"{hour:02d}:{minute:02d}",
    }


def _users_select(initial: Sequence[str], placeholder: str) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "multi_users_select",
        "placeholder": placeholder_text(placeholder),
    }
    if initial:
        element["initial_users"] = list(initial)
    return element


def _channel_filter() -> dict[str, Any]:
    return {"include": ["public", "private"], "exclude_bot_users": True}


def _group_select(groups: Sequence[tuple[str, str]], current: str | None) -> dict[str, Any]:
    listed = list(groups)
    if current and current not in {group_id for group_id, _ in listed}:
        # Still followed, though the workspace's list no longer shows it (or was not read).
        listed.insert(0, (current, f"{current} (current)"))
    if len(listed) > _MAX_OPTIONS - 1:
        chosen = [g for g in listed if g[0] == current]
        listed = chosen + [g for g in listed if g[0] != current][: _MAX_OPTIONS - 1 - len(chosen)]
    options = [select_option("No user group", NO_GROUP)]
    options += [select_option(name or group_id, group_id) for group_id, name in listed]
    element: dict[str, Any] = {
        "type": "static_select",
        "placeholder": placeholder_text("Choose a user group"),
        "options": options,
    }
    for option in options:
        if current and option["value"] == current:
            element["initial_option"] = option
    return element


def _goal_value(form: PilotForm, key: str) -> float | None:
    for goal_key, value in form.goals:
        if goal_key == key:
            return value
    return None


def _slot(form: PilotForm, slot: str) -> tuple[int, int, int]:
    for name, weekday, hour, minute in form.schedule:
        if name == slot:
            return weekday, hour, minute
    return DEFAULT_SCHEDULE[slot]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def setup_modal(
    form: PilotForm,
    *,
    editing: str | None,
    groups: Sequence[tuple[str, str]] = (),
    timezone: str | None = None,
) -> dict[str, Any]:
    """The modal view. `editing`: the pilot's current name when editing (None: a new pilot).
    `groups`: (id, name) of the workspace's user groups for a picker (empty: no group picker,
    unless the pilot already follows one). `timezone`: the pilot's, named beside the schedule."""
    blocks: Blocks = []
    if editing is None:
        blocks.append(
            context_block(
                "A pilot is one AI tool tried by one team. Its people get a one-click weekly "
                "pulse and a short check-in; its champions and leadership see only totals."
            )
        )
        blocks.append(
            input_block(
                NAME_BLOCK,
                "Pilot name",
                text_input(form.name, max_length=80, placeholder="e.g. support-copilot"),
                optional=False,
                hint="Short and unique: it names the pilot in /pilot-status and the digest.",
            )
        )
    else:
        blocks.append(text_block(f"*Pilot*: {_escape(editing)}"))
    blocks += [
        input_block(
            TOOL_BLOCK,
            "AI tool",
            text_input(form.tool, max_length=200, placeholder="e.g. GitHub Copilot"),
            optional=False,
        ),
        input_block(
            WORKFLOW_BLOCK,
            "Workflow it should help with",
            text_input(form.workflow, max_length=300, placeholder="e.g. answering tickets"),
            hint="One workflow, in a few words: the check-ins ask about it.",
        ),
        _leadership(form),
        {"type": "divider"},
        header_block("Who is in the pilot"),
        context_block(
            "Pick at least one: a channel, a user group or people. The channel and the group "
            "are followed: people who join them join the pilot, people who leave get no more "
            "messages."
        ),
        input_block(
            MEMBERS_CHANNEL_BLOCK,
            "Members from a channel",
            {
                "type": "multi_conversations_select",
                "placeholder": placeholder_text("Choose a channel"),
                "max_selected_items": 1,
                "filter": _channel_filter(),
                **(
                    {"initial_conversations": [form.members_channel]}
                    if form.members_channel
                    else {}
                ),
            },
            hint="Everyone in it is a member, as people join and leave.",
        ),
    ]
    if groups or form.members_group:
        blocks.append(
            input_block(
                MEMBERS_GROUP_BLOCK,
                "Members from a user group",
                _group_select(groups, form.members_group),
                hint="Everyone in it is a member, as people join and leave.",
            )
        )
    blocks += [
        input_block(
            MEMBERS_BLOCK,
            "People",
            _users_select(form.members, "Choose people"),
            hint="People picked by hand stay members whatever the channel or group says.",
        ),
        input_block(
            CHAMPIONS_BLOCK,
            "Champions",
            _users_select(form.champions, "Choose champions"),
            hint="They see the pilot's totals, nudge, and edit it. They are asked questions "
            "only if they are members too.",
        ),
        input_block(
            MIN_GROUP_BLOCK,
            "Minimum group size",
            number_input(
                form.min_group_size,
                decimals=False,
                low=MIN_GROUP_LOW,
                high=MIN_GROUP_HIGH,
                placeholder=str(MIN_GROUP_DEFAULT),
            ),
            hint=f"No figure drawn from fewer people is shown to anyone "
            f"({MIN_GROUP_LOW} to {MIN_GROUP_HIGH}).",
        ),
        {"type": "divider"},
        header_block("Goals for the first 30 days"),
        context_block("All optional: the digest says each week whether the pilot is on track."),
    ]
    for goal in GOALS:
        value = _goal_value(form, goal.key)
        blocks.append(
            input_block(
                goal.block_id,
                goal.label,
                number_input(
                    value * goal.scale if value is not None else None,
                    decimals=True,
                    low=goal.low,
                    high=goal.high,
                    placeholder="No goal",
                ),
                hint=goal.hint,
            )
        )
    others = [(key, value) for key, value in form.goals if key not in GOAL_BLOCKS]
    if others:
        shown = ", ".join(f"{key} {number_text(value)}" for key, value in others)
        blocks.append(context_block(f"Other goals, kept as they are: {_escape(shown)}"[:3000]))
    zone = f" ({timezone})" if timezone else ""
    blocks += [
        {"type": "divider"},
        header_block("Schedule"),
        context_block(f"Days and times are in the pilot's time zone{_escape(zone)}."),
    ]
    for slot in SLOTS:
        weekday, hour, minute = _slot(form, slot)
        day_block, time_block = SCHEDULE_BLOCKS[slot]
        blocks.append(input_block(day_block, f"{_SLOT_LABELS[slot]} day", _day_select(weekday)))
        blocks.append(
            input_block(time_block, f"{_SLOT_LABELS[slot]} time", _time_picker(hour, minute))
        )
    blocks += _calendar(form)
    return {
        "type": "modal",
        "callback_id": SETUP_CALLBACK,
        "private_metadata": json.dumps({"editing": editing}),
        "title": plain_text("Edit pilot" if editing is not None else "New pilot", 24),
        "submit": plain_text("Save" if editing is not None else "Create", 24),
        "close": plain_text("Cancel", 24),
        "blocks": blocks,
    }


def _calendar(form: PilotForm) -> Blocks:
    """The days people work and the holidays: a message due on any other day comes on the
    next working day instead."""
    mask = WEEKDAYS if form.working_days is None else form.working_days
    days = checkboxes(
        [(day, str(index)) for index, day in enumerate(DAYS)],
        [str(index) for index in range(7) if mask >> index & 1],
    )
    holidays = text_input(
        _fit_dates(form.holidays or "", _HOLIDAYS_LENGTH),
        max_length=_HOLIDAYS_LENGTH,
        placeholder="e.g. 2026-12-24, 2026-12-25",
        multiline=True,
    )
    return [
        input_block(
            WORKING_DAYS_BLOCK,
            "Working days",
            days,
            optional=False,
            hint="No message comes on another day: one due then comes on the next working "
            "day, at the same time, in each person's own time zone.",
        ),
        input_block(
            HOLIDAYS_BLOCK,
            "Holidays",
            holidays,
            hint="Dates as YYYY-MM-DD, separated by commas. Nobody gets a message on them: it "
            "comes on the next working day.",
        ),
    ]


def _fit_dates(text: str, limit: int) -> str:
    """`text` within `limit` characters, by whole dates: the earliest go first, as the past
    matters least (only a list set from the command line can be this long)."""
    if len(text) <= limit:
        return text
    kept = text[-limit:]
    return kept[next((i for i, c in enumerate(kept) if c in ", \n"), len(kept)) :].lstrip(", \n")


def _leadership(form: PilotForm) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "conversations_select",
        "placeholder": placeholder_text("Choose a channel"),
        "filter": _channel_filter(),
    }
    if form.leadership_channel:
        element["initial_conversation"] = form.leadership_channel
    return input_block(
        LEADERSHIP_BLOCK,
        "Leadership channel (the weekly digest goes here)",
        element,
        optional=False,
        hint="The bot must be in it: /invite @pilot-pulse",
    )


# -- reading -----------------------------------------------------------------------------------


def editing_of(view: dict[str, Any]) -> str | None:
    """The pilot a submitted modal was editing (None: a new pilot); ValueError when the
    metadata is not ours. Only says which form it was: the server checks the role again."""
    try:
        metadata = json.loads(view.get("private_metadata") or "")
    except (TypeError, ValueError):
        raise ValueError("not a pilot setup modal") from None
    if not isinstance(metadata, dict) or "editing" not in metadata:
        raise ValueError("not a pilot setup modal")
    editing = metadata["editing"]
    if editing is not None and not isinstance(editing, str):
        raise ValueError("not a pilot setup modal")
    return editing


def read_setup(view: dict[str, Any]) -> tuple[PilotForm, dict[str, str]]:
    """The form as submitted (`view["state"]["values"]`), and errors for input that cannot be
    read (block_id → message): a number out of range or not a number, a time not HH:MM, a day
    that is not one, no working day. Empty or missing inputs are None or (); this never
    raises. The holidays are read as typed: `bot.pilots.setup` checks the dates."""
    read = FormReader(view)
    try:
        editing = editing_of(view) if isinstance(view, dict) else None
    except ValueError:
        editing = None
    name = read.text(NAME_BLOCK) if NAME_BLOCK in read.values else editing
    group = read.option(MEMBERS_GROUP_BLOCK)
    minimum = read.number(MIN_GROUP_BLOCK, MIN_GROUP_LOW, MIN_GROUP_HIGH, whole=True)
    goals: list[tuple[str, float]] = []
    for goal in GOALS:
        value = read.number(goal.block_id, goal.low, goal.high, whole=False)
        if value is not None:
            goals.append((goal.key, round(value / goal.scale, 6)))
    form = PilotForm(
        name=name or "",
        tool=read.text(TOOL_BLOCK) or "",
        workflow=read.text(WORKFLOW_BLOCK),
        leadership_channel=read.conversation(LEADERSHIP_BLOCK),
        members_channel=read.conversation(MEMBERS_CHANNEL_BLOCK),
        members_group=None if group in (None, NO_GROUP) else group,
        members=read.users(MEMBERS_BLOCK),
        champions=read.users(CHAMPIONS_BLOCK),
        min_group_size=int(minimum) if minimum is not None else MIN_GROUP_DEFAULT,
        goals=tuple(goals),
        schedule=tuple(_schedule(read)),
        working_days=_working_days(read),
        holidays=read.typed(HOLIDAYS_BLOCK),
    )
    return form, read.errors


def _working_days(read: FormReader) -> int | None:
    """The ticked days as a mask (bit i for weekday i); none ticked is an error."""
    ticked = read.checked(WORKING_DAYS_BLOCK)
    if ticked is None:
        return None
    if any(value not in {str(index) for index in range(7)} for value in ticked):
        read.fail(WORKING_DAYS_BLOCK, "Choose days of the week.")
        return None
    if not ticked:
        read.fail(WORKING_DAYS_BLOCK, "Choose at least one working day.")
        return None
    return sum(1 << int(value) for value in ticked)


def _schedule(read: FormReader) -> Iterable[tuple[str, int, int, int]]:
    """Each slot whose day and time were both given; one without the other is an error."""
    for slot in SLOTS:
        day_block, time_block = SCHEDULE_BLOCKS[slot]
        day, at = read.day(day_block), read.time(time_block)
        if day is not None and at is not None:
            yield slot, day, at[0], at[1]
        elif day is None and at is not None and day_block not in read.errors:
            read.fail(day_block, "Choose a day for this time.")
        elif at is None and day is not None and time_block not in read.errors:
            read.fail(time_block, "Choose a time for this day.")
