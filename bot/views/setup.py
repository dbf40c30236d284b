"""The "New pilot" / "Edit pilot" modal: every setting of a pilot as input blocks with stable
block ids (so the server can put an error under any of them), and reading it back from a
`view_submission`. Pure: data in, blocks out; nothing here decides who may do what."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.views.blocks import Blocks, context_block, header_block, text_block

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

# Every input block has one element, always with this action id.
ELEMENT = "value"
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
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
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


# -- building ----------------------------------------------------------------------------------


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:limit], "emoji": True}


def _placeholder(text: str) -> dict[str, Any]:
    return _plain(text, 150)


def _input(
    block_id: str,
    label: str,
    element: dict[str, Any],
    *,
    optional: bool = True,
    hint: str | None = None,
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": _plain(label, 2000),
        "element": {**element, "action_id": ELEMENT},
    }
    if hint:
        block["hint"] = _plain(hint, 2000)
    return block


def _text_input(
    initial: str | None, *, max_length: int, placeholder: str | None = None
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "multiline": False,
        "max_length": max_length,
    }
    if initial:
        element["initial_value"] = initial[:max_length]
    if placeholder:
        element["placeholder"] = _placeholder(placeholder)
    return element


def _number(value: float) -> str:
    """A number as a number input shows it: 70, 3.5, 1000000; never 70.0, 1e+06 nor
    0.30000000000000004."""
    text = f"{round(value, 4):.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _number_input(
    initial: float | None, *, decimals: bool, low: float, high: float | None, placeholder: str
) -> dict[str, Any]:
    if initial is not None:
        # A value set outside the modal's range (the command line allows more) still shows,
        # so Slack accepts the view; `read_setup` asks for a value within the range.
        low = min(low, initial)
        high = max(high, initial) if high is not None else None
    element: dict[str, Any] = {
        "type": "number_input",
        "is_decimal_allowed": decimals,
        "min_value": _number(low),
        "placeholder": _placeholder(placeholder),
    }
    if high is not None:
        element["max_value"] = _number(high)
    if initial is not None:
        element["initial_value"] = _number(initial)
    return element


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": _plain(text, 75), "value": value[:150]}


def _day_select(weekday: int) -> dict[str, Any]:
    options = [_option(day, str(index)) for index, day in enumerate(DAYS)]
    return {
        "type": "static_select",
        "placeholder": _placeholder("Choose a day"),
        "options": options,
        "initial_option": options[weekday % 7],
    }


def _time_picker(hour: int, minute: int) -> dict[str, Any]:
    return {
        "type": "timepicker",
        "placeholder": _placeholder("Choose a time"),
        "initial_time": f"{hour:02d}:{minute:02d}",
    }


def _users_select(initial: Sequence[str], placeholder: str) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "multi_users_select",
        "placeholder": _placeholder(placeholder),
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
    options = [_option("No user group", NO_GROUP)]
    options += [_option(name or group_id, group_id) for group_id, name in listed]
    element: dict[str, Any] = {
        "type": "static_select",
        "placeholder": _placeholder("Choose a user group"),
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
            _input(
                NAME_BLOCK,
                "Pilot name",
                _text_input(form.name, max_length=80, placeholder="e.g. support-copilot"),
                optional=False,
                hint="Short and unique: it names the pilot in /pilot-status and the digest.",
            )
        )
    else:
        blocks.append(text_block(f"*Pilot*: {_escape(editing)}"))
    blocks += [
        _input(
            TOOL_BLOCK,
            "AI tool",
            _text_input(form.tool, max_length=200, placeholder="e.g. GitHub Copilot"),
            optional=False,
        ),
        _input(
            WORKFLOW_BLOCK,
            "Workflow it should help with",
            _text_input(form.workflow, max_length=300, placeholder="e.g. answering tickets"),
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
        _input(
            MEMBERS_CHANNEL_BLOCK,
            "Members from a channel",
            {
                "type": "multi_conversations_select",
                "placeholder": _placeholder("Choose a channel"),
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
            _input(
                MEMBERS_GROUP_BLOCK,
                "Members from a user group",
                _group_select(groups, form.members_group),
                hint="Everyone in it is a member, as people join and leave.",
            )
        )
    blocks += [
        _input(
            MEMBERS_BLOCK,
            "People",
            _users_select(form.members, "Choose people"),
            hint="People picked by hand stay members whatever the channel or group says.",
        ),
        _input(
            CHAMPIONS_BLOCK,
            "Champions",
            _users_select(form.champions, "Choose champions"),
            hint="They see the pilot's totals, nudge, and edit it. They are asked questions "
            "only if they are members too.",
        ),
        _input(
            MIN_GROUP_BLOCK,
            "Minimum group size",
            _number_input(
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
            _input(
                goal.block_id,
                goal.label,
                _number_input(
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
        shown = ", ".join(f"{key} {_number(value)}" for key, value in others)
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
        blocks.append(_input(day_block, f"{_SLOT_LABELS[slot]} day", _day_select(weekday)))
        blocks.append(_input(time_block, f"{_SLOT_LABELS[slot]} time", _time_picker(hour, minute)))
    return {
        "type": "modal",
        "callback_id": SETUP_CALLBACK,
        "private_metadata": json.dumps({"editing": editing}),
        "title": _plain("Edit pilot" if editing is not None else "New pilot", 24),
        "submit": _plain("Save" if editing is not None else "Create", 24),
        "close": _plain("Cancel", 24),
        "blocks": blocks,
    }


def _leadership(form: PilotForm) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "conversations_select",
        "placeholder": _placeholder("Choose a channel"),
        "filter": _channel_filter(),
    }
    if form.leadership_channel:
        element["initial_conversation"] = form.leadership_channel
    return _input(
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


class _Reader:
    """Reads `view["state"]["values"]` block by block, collecting errors instead of raising."""

    def __init__(self, view: Any) -> None:
        state = view.get("state") if isinstance(view, dict) else None
        values = state.get("values") if isinstance(state, dict) else None
        self.values: dict[str, Any] = values if isinstance(values, dict) else {}
        self.errors: dict[str, str] = {}

    def element(self, block_id: str) -> dict[str, Any]:
        elements = self.values.get(block_id)
        if not isinstance(elements, dict):
            return {}
        element = elements.get(ELEMENT)
        if element is None and len(elements) == 1:
            element = next(iter(elements.values()))
        return element if isinstance(element, dict) else {}

    def fail(self, block_id: str, message: str) -> None:
        self.errors.setdefault(block_id, message)

    def text(self, block_id: str) -> str | None:
        value = self.element(block_id).get("value")
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(block_id, "This could not be read; type it again.")
            return None
        return value.strip() or None

    def conversation(self, block_id: str) -> str | None:
        element = self.element(block_id)
        if "selected_conversations" in element:
            chosen = self._ids(block_id, element.get("selected_conversations"))
            if len(chosen) > 1:
                self.fail(block_id, "Choose one channel.")
            return chosen[0] if chosen else None
        value = element.get("selected_conversation", element.get("selected_channel"))
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            self.fail(block_id, "This channel could not be read; choose it again.")
            return None
        return value

    def users(self, block_id: str) -> tuple[str, ...]:
        return self._ids(block_id, self.element(block_id).get("selected_users"))

    def _ids(self, block_id: str, value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(block_id, "This could not be read; choose again.")
            return ()
        return tuple(dict.fromkeys(v for v in value if v))

    def option(self, block_id: str) -> str | None:
        selected = self.element(block_id).get("selected_option")
        if selected is None:
            return None
        value = selected.get("value") if isinstance(selected, dict) else None
        if not isinstance(value, str):
            self.fail(block_id, "This choice could not be read; choose again.")
            return None
        return value

    def number(self, block_id: str, low: float, high: float | None, *, whole: bool) -> float | None:
        raw = self.element(block_id).get("value")
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        span = (
            f"from {_number(low)} to {_number(high)}"
            if high is not None
            else f"of at least {_number(low)}"
        )
        wanted = f"Enter a whole number {span}." if whole else f"Enter a number {span}."
        try:
            value = float(str(raw).strip())
        except ValueError:
            self.fail(block_id, wanted)
            return None
        if (
            not math.isfinite(value)
            or (whole and not value.is_integer())
            or value < low
            or (high is not None and value > high)
        ):
            self.fail(block_id, wanted)
            return None
        return value

    def day(self, block_id: str) -> int | None:
        value = self.option(block_id)
        if value is None:
            return None
        if value not in {str(index) for index in range(7)}:
            self.fail(block_id, "Choose a day of the week.")
            return None
        return int(value)

    def time(self, block_id: str) -> tuple[int, int] | None:
        value = self.element(block_id).get("selected_time")
        if value is None or value == "":
            return None
        match = _TIME.match(value) if isinstance(value, str) else None
        if not match:
            self.fail(block_id, "Enter a time such as 09:30 (24-hour).")
            return None
        return int(match.group(1)), int(match.group(2))


def read_setup(view: dict[str, Any]) -> tuple[PilotForm, dict[str, str]]:
    """The form as submitted (`view["state"]["values"]`), and errors for input that cannot be
    read (block_id → message): a number out of range or not a number, a time not HH:MM, a day
    that is not one. Empty or missing inputs are None or (); this never raises."""
    read = _Reader(view)
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
    )
    return form, read.errors


def _schedule(read: _Reader) -> Iterable[tuple[str, int, int, int]]:
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
