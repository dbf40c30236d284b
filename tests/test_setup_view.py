"""The pilot setup modal: valid Block Kit within Slack's limits, every field prefilled when
editing, and `read_setup` reading what Slack sends in a `view_submission` for each element
type, round-tripping a form, and reporting unreadable input per block without raising."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bot.views.form import ELEMENT
from bot.views.setup import (
    CHAMPIONS_BLOCK,
    CHECKIN_DAY_BLOCK,
    CHECKIN_TIME_BLOCK,
    DIGEST_DAY_BLOCK,
    DIGEST_TIME_BLOCK,
    GOAL_HOURS_BLOCK,
    GOAL_USAGE_BLOCK,
    GOAL_USEFULNESS_BLOCK,
    HOLIDAYS_BLOCK,
    LEADERSHIP_BLOCK,
    MEMBERS_BLOCK,
    MEMBERS_CHANNEL_BLOCK,
    MEMBERS_GROUP_BLOCK,
    MIN_GROUP_BLOCK,
    NAME_BLOCK,
    NO_GROUP,
    PULSE_DAY_BLOCK,
    PULSE_TIME_BLOCK,
    SETUP_CALLBACK,
    TOOL_BLOCK,
    WORKFLOW_BLOCK,
    WORKING_DAYS_BLOCK,
    PilotForm,
    editing_of,
    read_setup,
    setup_modal,
)

# -- a Block Kit checker, after Slack's reference (docs.slack.dev/reference/block-kit) --------

_TEXT_LIMITS = {"section": 3000, "header": 150}
_ELEMENT_KEYS: dict[str, set[str]] = {
    "button": {
        "type",
        "text",
        "action_id",
        "value",
        "style",
        "confirm",
        "url",
        "accessibility_label",
    },
    "plain_text_input": {
        "type",
        "action_id",
        "initial_value",
        "multiline",
        "min_length",
        "max_length",
        "placeholder",
        "dispatch_action_config",
        "focus_on_load",
    },
    "number_input": {
        "type",
        "action_id",
        "is_decimal_allowed",
        "initial_value",
        "min_value",
        "max_value",
        "placeholder",
        "dispatch_action_config",
        "focus_on_load",
    },
    "conversations_select": {
        "type",
        "action_id",
        "placeholder",
        "initial_conversation",
        "default_to_current_conversation",
        "confirm",
        "response_url_enabled",
        "filter",
        "focus_on_load",
    },
    "multi_conversations_select": {
        "type",
        "action_id",
        "placeholder",
        "initial_conversations",
        "default_to_current_conversation",
        "confirm",
        "max_selected_items",
        "filter",
        "focus_on_load",
    },
    "multi_users_select": {
        "type",
        "action_id",
        "placeholder",
        "initial_users",
        "confirm",
        "max_selected_items",
        "focus_on_load",
    },
    "static_select": {
        "type",
        "action_id",
        "placeholder",
        "options",
        "option_groups",
        "initial_option",
        "confirm",
        "focus_on_load",
    },
    "timepicker": {
        "type",
        "action_id",
        "placeholder",
        "initial_time",
        "confirm",
        "focus_on_load",
        "timezone",
    },
    "checkboxes": {"type", "action_id", "options", "initial_options", "confirm", "focus_on_load"},
}
_INPUT_ELEMENTS = set(_ELEMENT_KEYS) - {"button"}
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _text_errors(obj: Any, where: str, limit: int, *, plain: bool = False) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        return [f"{where}: not a text object"]
    if plain and obj["type"] != "plain_text":
        return [f"{where}: must be plain_text"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"{where}: empty text"]
    return [f"{where}: {len(text)} > {limit} characters"] if len(text) > limit else []


def _confirm_errors(dialog: Any, where: str) -> list[str]:
    if not isinstance(dialog, dict):
        return [f"{where}: not an object"]
    errors = _text_errors(dialog.get("title"), f"{where}/title", 100, plain=True)
    errors += _text_errors(dialog.get("text"), f"{where}/text", 300)
    errors += _text_errors(dialog.get("confirm"), f"{where}/confirm", 30, plain=True)
    errors += _text_errors(dialog.get("deny"), f"{where}/deny", 30, plain=True)
    if dialog.get("style") not in (None, "primary", "danger"):
        errors.append(f"{where}/style: {dialog['style']}")
    return errors


def _option_errors(option: Any, where: str) -> list[str]:
    if not isinstance(option, dict):
        return [f"{where}: not an option"]
    errors = _text_errors(option.get("text"), f"{where}/text", 75)
    value = option.get("value")
    if not isinstance(value, str) or not value or len(value) > 150:
        errors.append(f"{where}/value: {value!r}")
    return errors


def element_errors(element: Any, where: str) -> list[str]:
    """What Slack would refuse in one interactive element."""
    if not isinstance(element, dict) or element.get("type") not in _ELEMENT_KEYS:
        return [f"{where}: unknown element {element!r:.80}"]
    kind = element["type"]
    errors = [f"{where}: unknown field {key}" for key in set(element) - _ELEMENT_KEYS[kind]]
    action_id = element.get("action_id")
    if not isinstance(action_id, str) or not action_id or len(action_id) > 255:
        errors.append(f"{where}/action_id: {action_id!r}")
    if "placeholder" in element:
        errors += _text_errors(element["placeholder"], f"{where}/placeholder", 150, plain=True)
    if "confirm" in element:
        errors += _confirm_errors(element["confirm"], f"{where}/confirm")
    if kind == "button":
        errors += _text_errors(element.get("text"), f"{where}/text", 75, plain=True)
        value = element.get("value")
        if value is not None and (not isinstance(value, str) or len(value) > 2000):
            errors.append(f"{where}/value: {value!r}")
        if element.get("style") not in (None, "primary", "danger"):
            errors.append(f"{where}/style")
    elif kind == "plain_text_input":
        most = element.get("max_length", 3000)
        if not isinstance(most, int) or not 1 <= most <= 3000:
            errors.append(f"{where}/max_length: {most!r}")
        initial = element.get("initial_value")
        if initial is not None and (not isinstance(initial, str) or len(initial) > most):
            errors.append(f"{where}/initial_value: {initial!r}")
        if not isinstance(element.get("multiline", False), bool):
            errors.append(f"{where}/multiline")
    elif kind == "number_input":
        decimals = element.get("is_decimal_allowed")
        if not isinstance(decimals, bool):
            errors.append(f"{where}/is_decimal_allowed is required")
        numbers = {}
        for key in ("initial_value", "min_value", "max_value"):
            if key in element:
                raw = element[key]
                if not isinstance(raw, str):
                    errors.append(f"{where}/{key}: must be a string, got {raw!r}")
                    continue
                try:
                    numbers[key] = float(raw)
                except ValueError:
                    errors.append(f"{where}/{key}: {raw!r}")
                    continue
                if decimals is False and not re.fullmatch(r"-?\d+", raw):
                    errors.append(f"{where}/{key}: {raw!r} is not whole")
        low, high = numbers.get("min_value"), numbers.get("max_value")
        if low is not None and high is not None and low > high:
            errors.append(f"{where}: min_value > max_value")
        initial = numbers.get("initial_value")
        if initial is not None and (
            (low is not None and initial < low) or (high is not None and initial > high)
        ):
            errors.append(f"{where}/initial_value out of range")
    elif kind in ("conversations_select", "multi_conversations_select"):
        chosen = element.get("filter")
        if chosen is not None:
            include = chosen.get("include")
            if include is not None and (
                not include or set(include) - {"im", "mpim", "private", "public"}
            ):
                errors.append(f"{where}/filter/include: {include!r}")
            if set(chosen) - {"include", "exclude_external_shared_channels", "exclude_bot_users"}:
                errors.append(f"{where}/filter: unknown field")
        if kind == "conversations_select" and not isinstance(
            element.get("initial_conversation", ""), str
        ):
            errors.append(f"{where}/initial_conversation")
        if kind == "multi_conversations_select" and "initial_conversations" in element:
            initial = element["initial_conversations"]
            if not isinstance(initial, list) or not all(isinstance(c, str) for c in initial):
                errors.append(f"{where}/initial_conversations")
            elif len(initial) > element.get("max_selected_items", len(initial)):
                errors.append(f"{where}: more initial conversations than max_selected_items")
    elif kind == "multi_users_select":
        initial = element.get("initial_users", [])
        if not isinstance(initial, list) or not all(isinstance(u, str) for u in initial):
            errors.append(f"{where}/initial_users")
    elif kind == "static_select":
        options = element.get("options")
        if not isinstance(options, list) or not 1 <= len(options) <= 100:
            errors.append(f"{where}/options: 1 to 100 needed")
            options = []
        for index, option in enumerate(options):
            errors += _option_errors(option, f"{where}/options/{index}")
        values = [o.get("value") for o in options if isinstance(o, dict)]
        if len(values) != len(set(values)):
            errors.append(f"{where}/options: duplicate values")
        if "initial_option" in element and element["initial_option"] not in options:
            errors.append(f"{where}/initial_option matches no option")
    elif kind == "checkboxes":
        options = element.get("options")
        if not isinstance(options, list) or not 1 <= len(options) <= 10:
            errors.append(f"{where}/options: 1 to 10 needed")
            options = []
        for index, option in enumerate(options):
            errors += _option_errors(option, f"{where}/options/{index}")
        if "initial_options" in element:
            initial = element["initial_options"]
            if not isinstance(initial, list) or not initial:
                errors.append(f"{where}/initial_options: a non-empty list, or left out")
            elif any(o not in options for o in initial):
                errors.append(f"{where}/initial_options match no option")
    elif kind == "timepicker":
        initial = element.get("initial_time")
        if initial is not None and not (isinstance(initial, str) and _TIME.match(initial)):
            errors.append(f"{where}/initial_time: {initial!r}")
    return errors


def block_errors(blocks: Any, *, surface: str) -> list[str]:
    """What Slack would refuse in a view's blocks (`surface`: "modal" or "home")."""
    if not isinstance(blocks, list):
        return ["blocks: not a list"]
    errors = [] if len(blocks) <= 100 else [f"blocks: {len(blocks)} > 100"]
    seen: set[str] = set()
    for index, block in enumerate(blocks):
        where = f"blocks/{index}"
        kind = block.get("type") if isinstance(block, dict) else None
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if block_id is not None:
            if not isinstance(block_id, str) or not block_id or len(block_id) > 255:
                errors.append(f"{where}/block_id: {block_id!r}")
            elif block_id in seen:
                errors.append(f"{where}/block_id: duplicate {block_id}")
            seen.add(block_id)
        if kind in ("section", "header"):
            errors += _text_errors(
                block.get("text"), f"{where}/text", _TEXT_LIMITS[kind], plain=kind == "header"
            )
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                errors.append(f"{where}/elements: 1 to 10 needed")
            else:
                for n, element in enumerate(elements):
                    errors += _text_errors(element, f"{where}/elements/{n}", 3000)
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
                errors.append(f"{where}/elements: 1 to 25 needed")
                elements = []
            for n, element in enumerate(elements):
                errors += element_errors(element, f"{where}/elements/{n}")
            ids = [e.get("action_id") for e in elements if isinstance(e, dict)]
            if len(ids) != len(set(ids)):
                errors.append(f"{where}: duplicate action_id")
        elif kind == "input":
            errors += _text_errors(block.get("label"), f"{where}/label", 2000, plain=True)
            if "hint" in block:
                errors += _text_errors(block["hint"], f"{where}/hint", 2000, plain=True)
            if not isinstance(block.get("optional", False), bool):
                errors.append(f"{where}/optional")
            element = block.get("element")
            if not isinstance(element, dict) or element.get("type") not in _INPUT_ELEMENTS:
                errors.append(f"{where}/element: not an input element")
            else:
                errors += element_errors(element, f"{where}/element")
        elif kind != "divider":
            errors.append(f"{where}: unknown block type {kind!r}")
    return errors


def view_errors(view: dict[str, Any]) -> list[str]:
    errors = block_errors(view.get("blocks"), surface=view.get("type", ""))
    if view.get("type") == "modal":
        errors += _text_errors(view.get("title"), "title", 24, plain=True)
        for key in ("submit", "close"):
            if key in view:
                errors += _text_errors(view[key], key, 24, plain=True)
        has_input = any(b.get("type") == "input" for b in view.get("blocks", []))
        if has_input and "submit" not in view:
            errors.append("submit: required with input blocks")
    elif view.get("type") != "home":
        errors.append(f"type: {view.get('type')!r}")
    if len(view.get("private_metadata", "")) > 3000:
        errors.append("private_metadata: > 3000 characters")
    if len(view.get("callback_id", "")) > 255:
        errors.append("callback_id: > 255 characters")
    return errors


# -- what Slack sends back ---------------------------------------------------------------------


def submitted(view: dict[str, Any], **changes: dict[str, Any]) -> dict[str, Any]:
    """A `view_submission`'s view: the state Slack sends when the person leaves each input as
    the modal set it, then `changes` (block_id → that element's state, as Slack shapes it)."""
    values: dict[str, dict[str, Any]] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        kind = element["type"]
        state: dict[str, Any] = {"type": kind}
        if kind in ("plain_text_input", "number_input"):
            state["value"] = element.get("initial_value")
        elif kind == "conversations_select":
            state["selected_conversation"] = element.get("initial_conversation")
        elif kind == "multi_conversations_select":
            state["selected_conversations"] = element.get("initial_conversations", [])
        elif kind == "multi_users_select":
            state["selected_users"] = element.get("initial_users", [])
        elif kind == "static_select":
            state["selected_option"] = element.get("initial_option")
        elif kind == "timepicker":
            state["selected_time"] = element.get("initial_time")
        elif kind == "checkboxes":
            state["selected_options"] = element.get("initial_options", [])
        values[block["block_id"]] = {element["action_id"]: state}
    for block_id, state in changes.items():
        values[block_id] = {ELEMENT: state}
    return {
        "id": "V0SETUP",
        "type": "modal",
        "callback_id": view["callback_id"],
        "private_metadata": view["private_metadata"],
        "blocks": view["blocks"],
        "state": {"values": values},
        "hash": "1700000000.abcd",
    }


def text(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def number(value: str | None) -> dict[str, Any]:
    return {"type": "number_input", "value": value}


def option(value: str, label: str = "x") -> dict[str, Any]:
    return {
        "type": "static_select",
        "selected_option": {
            "text": {"type": "plain_text", "text": label, "emoji": True},
            "value": value,
        },
    }


def time(value: str | None) -> dict[str, Any]:
    return {"type": "timepicker", "selected_time": value}


def ticked(*values: str) -> dict[str, Any]:
    return {
        "type": "checkboxes",
        "selected_options": [
            {"text": {"type": "plain_text", "text": v, "emoji": True}, "value": v} for v in values
        ],
    }


FULL = PilotForm(
    name="support-copilot",
    tool="GitHub Copilot",
    workflow="answering tickets",
    leadership_channel="C0LEADS",
    members_channel="C0TEAM",
    members_group="S0SUPPORT",
    members=("U0ADA", "U0GRACE"),
    champions=("U0CHAMP",),
    min_group_size=7,
    goals=(("weekly_usage", 0.7), ("usefulness", 3.5), ("hours_saved", 20.0)),
    schedule=(("pulse", 3, 9, 30), ("checkin", 4, 15, 45), ("digest", 0, 8, 0)),
    working_days=0b1001111,  # Sunday to Thursday
    holidays="2026-12-24, 2026-12-25",
)
GROUPS = [("S0SUPPORT", "Support team"), ("S0SALES", "Sales")]


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


# -- the modal ---------------------------------------------------------------------------------


@pytest.mark.parametrize("editing", [None, "support-copilot"])
@pytest.mark.parametrize("groups", [[], GROUPS])
def test_the_modal_is_valid_block_kit(editing: str | None, groups: list) -> None:
    for form in (PilotForm(), FULL):
        view = setup_modal(form, editing=editing, groups=groups, timezone="Europe/Berlin")
        assert view_errors(view) == []
        assert view["callback_id"] == SETUP_CALLBACK
        assert json.loads(view["private_metadata"]) == {"editing": editing}
        assert view["title"]["text"] == ("Edit pilot" if editing else "New pilot")
        assert view["submit"]["text"] == ("Save" if editing else "Create")
        assert view["close"]["text"] == "Cancel"
        blocks = inputs(view)
        required = {bid for bid, b in blocks.items() if not b["optional"]}
        assert required == (
            {TOOL_BLOCK, LEADERSHIP_BLOCK, WORKING_DAYS_BLOCK}
            | ({NAME_BLOCK} if not editing else set())
        )
        assert (NAME_BLOCK in blocks) is (editing is None)


def test_the_new_pilot_modal_has_every_field_and_the_defaults() -> None:
    view = setup_modal(PilotForm(), editing=None, groups=GROUPS)
    blocks = inputs(view)
    assert list(blocks) == [
        NAME_BLOCK,
        TOOL_BLOCK,
        WORKFLOW_BLOCK,
        LEADERSHIP_BLOCK,
        MEMBERS_CHANNEL_BLOCK,
        MEMBERS_GROUP_BLOCK,
        MEMBERS_BLOCK,
        CHAMPIONS_BLOCK,
        MIN_GROUP_BLOCK,
        GOAL_USAGE_BLOCK,
        GOAL_USEFULNESS_BLOCK,
        GOAL_HOURS_BLOCK,
        PULSE_DAY_BLOCK,
        PULSE_TIME_BLOCK,
        CHECKIN_DAY_BLOCK,
        CHECKIN_TIME_BLOCK,
        DIGEST_DAY_BLOCK,
        DIGEST_TIME_BLOCK,
        WORKING_DAYS_BLOCK,
        HOLIDAYS_BLOCK,
    ]
    name = blocks[NAME_BLOCK]["element"]
    assert name["type"] == "plain_text_input" and name["max_length"] == 80
    assert "initial_value" not in name
    workflow = blocks[WORKFLOW_BLOCK]["element"]
    assert workflow["multiline"] is False and workflow["max_length"] == 300
    leadership = blocks[LEADERSHIP_BLOCK]
    assert leadership["element"]["type"] == "conversations_select"
    assert leadership["element"]["filter"] == {
        "include": ["public", "private"],
        "exclude_bot_users": True,
    }
    assert "/invite @pilot-pulse" in leadership["hint"]["text"]
    assert blocks[MEMBERS_BLOCK]["element"]["type"] == "multi_users_select"
    assert blocks[CHAMPIONS_BLOCK]["element"]["type"] == "multi_users_select"
    group = blocks[MEMBERS_GROUP_BLOCK]["element"]
    assert [o["value"] for o in group["options"]] == [NO_GROUP, "S0SUPPORT", "S0SALES"]
    assert "initial_option" not in group
    minimum = blocks[MIN_GROUP_BLOCK]["element"]
    assert minimum == {
        "type": "number_input",
        "is_decimal_allowed": False,
        "min_value": "3",
        "max_value": "50",
        "initial_value": "5",
        "placeholder": minimum["placeholder"],
        "action_id": ELEMENT,
    }
    usage = blocks[GOAL_USAGE_BLOCK]["element"]
    assert (usage["is_decimal_allowed"], usage["min_value"], usage["max_value"]) == (
        True,
        "0",
        "100",
    )
    assert "initial_value" not in usage
    usefulness = blocks[GOAL_USEFULNESS_BLOCK]["element"]
    assert (usefulness["min_value"], usefulness["max_value"]) == ("1", "5")
    hours = blocks[GOAL_HOURS_BLOCK]["element"]
    assert hours["min_value"] == "0" and "max_value" not in hours
    # Tuesday 10:00, Wednesday 14:00, Monday 11:00.
    days = [
        blocks[b]["element"]["initial_option"]["value"]
        for b in (PULSE_DAY_BLOCK, CHECKIN_DAY_BLOCK, DIGEST_DAY_BLOCK)
    ]
    times = [
        blocks[b]["element"]["initial_time"]
        for b in (PULSE_TIME_BLOCK, CHECKIN_TIME_BLOCK, DIGEST_TIME_BLOCK)
    ]
    assert days == ["1", "2", "0"] and times == ["10:00", "14:00", "11:00"]
    assert [o["text"]["text"] for o in blocks[PULSE_DAY_BLOCK]["element"]["options"]][:2] == [
        "Monday",
        "Tuesday",
    ]
    # Monday to Friday ticked, of seven; no holidays.
    days = blocks[WORKING_DAYS_BLOCK]["element"]
    assert days["type"] == "checkboxes"
    assert [o["text"]["text"] for o in days["options"]] == [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ]
    assert [o["value"] for o in days["initial_options"]] == ["0", "1", "2", "3", "4"]
    holidays = blocks[HOLIDAYS_BLOCK]
    assert holidays["optional"] is True and "initial_value" not in holidays["element"]
    assert "YYYY-MM-DD" in holidays["hint"]["text"]
    page = json.dumps(view)
    assert "at least one" in page and "followed" in page


def test_no_group_picker_without_groups() -> None:
    view = setup_modal(PilotForm(), editing=None)
    assert MEMBERS_GROUP_BLOCK not in inputs(view)


def test_editing_prefills_every_field() -> None:
    view = setup_modal(FULL, editing="support-copilot", groups=GROUPS)
    blocks = inputs(view)
    element = {bid: b["element"] for bid, b in blocks.items()}
    assert NAME_BLOCK not in element
    assert "support-copilot" in json.dumps(view["blocks"][0])
    assert element[TOOL_BLOCK]["initial_value"] == "GitHub Copilot"
    assert element[WORKFLOW_BLOCK]["initial_value"] == "answering tickets"
    assert element[LEADERSHIP_BLOCK]["initial_conversation"] == "C0LEADS"
    assert element[MEMBERS_CHANNEL_BLOCK]["initial_conversations"] == ["C0TEAM"]
    assert element[MEMBERS_GROUP_BLOCK]["initial_option"]["value"] == "S0SUPPORT"
    assert element[MEMBERS_GROUP_BLOCK]["initial_option"]["text"]["text"] == "Support team"
    assert element[MEMBERS_BLOCK]["initial_users"] == ["U0ADA", "U0GRACE"]
    assert element[CHAMPIONS_BLOCK]["initial_users"] == ["U0CHAMP"]
    assert element[MIN_GROUP_BLOCK]["initial_value"] == "7"
    assert element[GOAL_USAGE_BLOCK]["initial_value"] == "70"
    assert element[GOAL_USEFULNESS_BLOCK]["initial_value"] == "3.5"
    assert element[GOAL_HOURS_BLOCK]["initial_value"] == "20"
    assert element[PULSE_DAY_BLOCK]["initial_option"]["value"] == "3"
    assert element[PULSE_TIME_BLOCK]["initial_time"] == "09:30"
    assert element[CHECKIN_DAY_BLOCK]["initial_option"]["value"] == "4"
    assert element[CHECKIN_TIME_BLOCK]["initial_time"] == "15:45"
    assert element[DIGEST_DAY_BLOCK]["initial_option"]["value"] == "0"
    assert element[DIGEST_TIME_BLOCK]["initial_time"] == "08:00"
    assert [o["value"] for o in element[WORKING_DAYS_BLOCK]["initial_options"]] == [
        "0",
        "1",
        "2",
        "3",
        "6",
    ]
    assert element[HOLIDAYS_BLOCK]["initial_value"] == "2026-12-24, 2026-12-25"


def test_a_followed_group_missing_from_the_list_stays_choosable() -> None:
    form = PilotForm(name="p", tool="t", members_group="S0GONE")
    for groups in ([], GROUPS):
        element = inputs(setup_modal(form, editing="p", groups=groups))[MEMBERS_GROUP_BLOCK][
            "element"
        ]
        assert element["initial_option"]["value"] == "S0GONE"
        assert element_errors(element, "group") == []


def test_many_groups_fit_a_select_and_keep_the_current_one() -> None:
    groups = [(f"S{i:04d}", f"Group {i}") for i in range(300)]
    view = setup_modal(PilotForm(members_group="S0250"), editing="p", groups=groups)
    element = inputs(view)[MEMBERS_GROUP_BLOCK]["element"]
    assert len(element["options"]) == 100
    assert element["initial_option"]["value"] == "S0250"
    assert view_errors(view) == []


def test_long_and_odd_values_stay_within_limits() -> None:
    form = PilotForm(
        name="n" * 200,
        tool="t" * 500,
        workflow="w" * 900,
        goals=(("trust", 3.5), ("response_rate", 0.6)),
    )
    view = setup_modal(
        form, editing="<b>&" + "x" * 300, groups=[("S1", "g" * 300)], timezone="Europe/Berlin"
    )
    assert view_errors(view) == []
    page = json.dumps(view)
    assert "&lt;b&gt;&amp;" in page
    assert "Other goals, kept as they are: trust 3.5, response_rate 0.6" in page


def test_a_long_list_of_holidays_is_shown_by_whole_dates_the_latest_kept() -> None:
    dates = [f"{year}-{month:02d}-01" for year in range(2000, 2030) for month in range(1, 13)]
    view = setup_modal(PilotForm(holidays=", ".join(dates)), editing="p")
    assert view_errors(view) == []
    shown = inputs(view)[HOLIDAYS_BLOCK]["element"]["initial_value"]
    kept = shown.split(", ")
    assert kept[-1] == "2029-12-01" and len(kept) < len(dates)
    assert all(len(day) == 10 for day in kept)  # no date cut in two


# -- reading it back ---------------------------------------------------------------------------


def test_a_form_round_trips_when_editing() -> None:
    view = setup_modal(FULL, editing="support-copilot", groups=GROUPS)
    form, errors = read_setup(submitted(view))
    assert errors == {}
    assert form == FULL


def test_a_new_pilot_reads_every_element_type_as_slack_sends_it() -> None:
    view = setup_modal(PilotForm(), editing=None, groups=GROUPS)
    state = submitted(
        view,
        **{
            NAME_BLOCK: text("  support-copilot "),
            TOOL_BLOCK: text("GitHub Copilot"),
            WORKFLOW_BLOCK: text(None),
            LEADERSHIP_BLOCK: {"type": "conversations_select", "selected_conversation": "C0LEADS"},
            MEMBERS_CHANNEL_BLOCK: {
                "type": "multi_conversations_select",
                "selected_conversations": ["C0TEAM"],
            },
            MEMBERS_GROUP_BLOCK: option("S0SALES", "Sales"),
            MEMBERS_BLOCK: {"type": "multi_users_select", "selected_users": ["U1", "U2", "U1"]},
            CHAMPIONS_BLOCK: {"type": "multi_users_select", "selected_users": []},
            MIN_GROUP_BLOCK: number("8"),
            GOAL_USAGE_BLOCK: number("65.5"),
            GOAL_USEFULNESS_BLOCK: number(None),
            GOAL_HOURS_BLOCK: number("12"),
            PULSE_DAY_BLOCK: option("4", "Friday"),
            PULSE_TIME_BLOCK: time("16:05"),
        },
    )
    form, errors = read_setup(state)
    assert errors == {}
    assert form == PilotForm(
        name="support-copilot",
        tool="GitHub Copilot",
        workflow=None,
        leadership_channel="C0LEADS",
        members_channel="C0TEAM",
        members_group="S0SALES",
        members=("U1", "U2"),
        champions=(),
        min_group_size=8,
        goals=(("weekly_usage", 0.655), ("hours_saved", 12.0)),
        schedule=(("pulse", 4, 16, 5), ("checkin", 2, 14, 0), ("digest", 0, 11, 0)),
        working_days=0b0011111,  # as the modal ticks them
        holidays="",
    )
    assert editing_of(state) is None


def test_empty_and_missing_inputs_read_as_nothing() -> None:
    view = setup_modal(FULL, editing="support-copilot", groups=GROUPS)
    state = submitted(
        view,
        **{
            WORKFLOW_BLOCK: text(None),
            MEMBERS_CHANNEL_BLOCK: {
                "type": "multi_conversations_select",
                "selected_conversations": [],
            },
            MEMBERS_GROUP_BLOCK: option(NO_GROUP, "No user group"),
            MEMBERS_BLOCK: {"type": "multi_users_select", "selected_users": []},
            MIN_GROUP_BLOCK: number(None),
            GOAL_USAGE_BLOCK: number(None),
            GOAL_USEFULNESS_BLOCK: number(""),
            GOAL_HOURS_BLOCK: number(None),
        },
    )
    form, errors = read_setup(state)
    assert errors == {}
    assert (form.workflow, form.members_channel, form.members_group, form.members) == (
        None,
        None,
        None,
        (),
    )
    assert form.min_group_size == 5 and form.goals == ()
    assert form.name == "support-copilot"  # when editing, the name comes from the metadata
    # Nothing at all: a form of defaults, no errors.
    assert read_setup({"type": "modal", "state": {"values": {}}}) == (PilotForm(), {})
    state["state"]["values"][LEADERSHIP_BLOCK] = {
        ELEMENT: {"type": "conversations_select", "selected_conversation": None}
    }
    state["state"]["values"][MEMBERS_GROUP_BLOCK] = {
        ELEMENT: {"type": "static_select", "selected_option": None}
    }
    form, errors = read_setup(state)
    assert errors == {} and form.leadership_channel is None and form.members_group is None


def test_a_single_conversations_select_reads_too() -> None:
    view = setup_modal(PilotForm(), editing=None)
    state = submitted(
        view,
        **{
            MEMBERS_CHANNEL_BLOCK: {
                "type": "conversations_select",
                "selected_conversation": "C0TEAM",
            }
        },
    )
    assert read_setup(state)[0].members_channel == "C0TEAM"


def test_working_days_and_holidays_read_back() -> None:
    view = setup_modal(FULL, editing="support-copilot", groups=GROUPS)
    changed = {
        WORKING_DAYS_BLOCK: ticked("5", "0", "6"),
        HOLIDAYS_BLOCK: text(" 2027-01-01\n2026-12-31 "),
    }
    form, errors = read_setup(submitted(view, **changed))
    assert errors == {}
    assert form.working_days == 0b1100001  # Monday, Saturday and Sunday
    assert form.holidays == "2027-01-01\n2026-12-31"  # as typed; the domain reads the dates
    # Emptied, the holidays read as "" (clear them), not as None (leave them as they are).
    form, _ = read_setup(submitted(view, **{HOLIDAYS_BLOCK: text(None)}))
    assert form.holidays == ""
    # A form without these inputs (opened before they existed) leaves both alone.
    values = submitted(view)
    del values["state"]["values"][WORKING_DAYS_BLOCK], values["state"]["values"][HOLIDAYS_BLOCK]
    form, errors = read_setup(values)
    assert errors == {} and (form.working_days, form.holidays) == (None, None)


@pytest.mark.parametrize(
    ("block_id", "state", "message"),
    [
        (WORKING_DAYS_BLOCK, ticked(), "at least one working day"),
        (WORKING_DAYS_BLOCK, {"type": "checkboxes", "selected_options": []}, "at least one"),
        (WORKING_DAYS_BLOCK, {"type": "checkboxes", "selected_options": None}, "at least one"),
        (WORKING_DAYS_BLOCK, ticked("1", "7"), "days of the week"),
        (WORKING_DAYS_BLOCK, {"type": "checkboxes", "selected_options": "1"}, "could not be read"),
        (HOLIDAYS_BLOCK, {"type": "plain_text_input", "value": ["2026-12-24"]}, "type it again"),
        (MIN_GROUP_BLOCK, number("two"), "whole number from 3 to 50"),
        (MIN_GROUP_BLOCK, number("2"), "whole number from 3 to 50"),
        (MIN_GROUP_BLOCK, number("51"), "whole number from 3 to 50"),
        (MIN_GROUP_BLOCK, number("7.5"), "whole number from 3 to 50"),
        (GOAL_USAGE_BLOCK, number("150"), "number from 0 to 100"),
        (GOAL_USAGE_BLOCK, number("seventy"), "number from 0 to 100"),
        (GOAL_USAGE_BLOCK, number("nan"), "number from 0 to 100"),
        (GOAL_USEFULNESS_BLOCK, number("0.5"), "number from 1 to 5"),
        (GOAL_HOURS_BLOCK, number("-1"), "at least 0"),
        (GOAL_HOURS_BLOCK, number("inf"), "at least 0"),
        (PULSE_TIME_BLOCK, time("25:00"), "09:30"),
        (PULSE_TIME_BLOCK, time("9.30"), "09:30"),
        (PULSE_TIME_BLOCK, {"type": "timepicker", "selected_time": 930}, "09:30"),
        (CHECKIN_DAY_BLOCK, option("7"), "day of the week"),
        (CHECKIN_DAY_BLOCK, {"type": "static_select", "selected_option": "2"}, "could not be read"),
        (
            MEMBERS_BLOCK,
            {"type": "multi_users_select", "selected_users": "U1"},
            "could not be read",
        ),
        (
            CHAMPIONS_BLOCK,
            {"type": "multi_users_select", "selected_users": [1, 2]},
            "could not be read",
        ),
        (
            LEADERSHIP_BLOCK,
            {"type": "conversations_select", "selected_conversation": ["C1"]},
            "choose it again",
        ),
        (
            MEMBERS_CHANNEL_BLOCK,
            {"type": "multi_conversations_select", "selected_conversations": ["C1", "C2"]},
            "one channel",
        ),
        (TOOL_BLOCK, {"type": "plain_text_input", "value": 12}, "type it again"),
    ],
)
def test_unreadable_input_is_an_error_on_its_block(
    block_id: str, state: dict[str, Any], message: str
) -> None:
    view = setup_modal(FULL, editing="support-copilot", groups=GROUPS)
    _, errors = read_setup(submitted(view, **{block_id: state}))
    assert list(errors) == [block_id]
    assert message in errors[block_id]
    assert len(errors[block_id]) < 2000  # Slack shows it under the input


def test_a_day_without_a_time_or_a_time_without_a_day_is_an_error() -> None:
    view = setup_modal(PilotForm(), editing=None)
    values = {
        PULSE_DAY_BLOCK: {"type": "static_select", "selected_option": None},
        DIGEST_TIME_BLOCK: time(None),
    }
    form, errors = read_setup(submitted(view, **values))
    assert set(errors) == {PULSE_DAY_BLOCK, DIGEST_TIME_BLOCK}
    assert [slot for slot, *_ in form.schedule] == ["checkin"]


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        1,
        "x",
        [],
        {},
        [1],
        {"value": 3},
        {"selected_option": {"value": None}},
        {"selected_users": None},
    ],
)
def test_malformed_payloads_never_raise(garbage: Any) -> None:
    view = setup_modal(FULL, editing="support-copilot", groups=GROUPS)
    block_ids = [*inputs(view), NAME_BLOCK]
    for block_id in block_ids:
        for shape in (garbage, {ELEMENT: garbage}, {"other": garbage, "more": garbage}):
            broken = submitted(view)
            broken["state"]["values"][block_id] = shape
            form, errors = read_setup(broken)
            assert isinstance(form, PilotForm) and isinstance(errors, dict)
    for whole in (
        None,
        {},
        {"state": None},
        {"state": {"values": []}},
        {"private_metadata": "{"},
        {"private_metadata": "[1]"},
    ):
        assert read_setup(whole)[1] == {}  # type: ignore[arg-type]


def test_editing_of_names_the_form_and_refuses_foreign_metadata() -> None:
    assert editing_of(setup_modal(PilotForm(), editing="alpha")) == "alpha"
    assert editing_of(setup_modal(PilotForm(), editing=None)) is None
    for metadata in ("", "{", "[]", '{"delivery_id": 3}', '{"editing": 5}'):
        with pytest.raises(ValueError):
            editing_of({"private_metadata": metadata})


def test_the_checker_sees_what_slack_refuses() -> None:
    # The checker itself must work, or every test above passes by finding nothing.
    view = setup_modal(FULL, editing="support-copilot", groups=GROUPS)
    view["title"]["text"] = "A title far longer than Slack allows"
    blocks = view["blocks"]
    blocks.append(dict(blocks[1]))  # a duplicate block_id
    tool = inputs(view)[TOOL_BLOCK]["element"]
    tool["initial_conversation"] = "C1"  # a field this element does not have
    minimum = inputs(view)[MIN_GROUP_BLOCK]["element"]
    del minimum["is_decimal_allowed"]
    group = inputs(view)[MEMBERS_GROUP_BLOCK]["element"]
    group["initial_option"] = {"text": {"type": "plain_text", "text": "?"}, "value": "S0NONE"}
    days = inputs(view)[WORKING_DAYS_BLOCK]["element"]
    days["initial_options"] = [{"text": {"type": "plain_text", "text": "Holiday"}, "value": "9"}]
    days["options"] = days["options"] * 2  # 14: more than checkboxes hold
    errors = " ".join(view_errors(view))
    for expected in (
        "title:",
        "duplicate",
        "unknown field initial_conversation",
        "is_decimal_allowed is required",
        "initial_option matches no option",
        "initial_options match no option",
        "1 to 10 needed",
    ):
        assert expected in errors


def test_values_set_outside_the_modals_range_still_show_and_ask_to_be_fixed() -> None:
    # The command line allows a minimum group over 50 and a usefulness goal on 0–10.
    form = PilotForm(
        name="p",
        tool="t",
        leadership_channel="C1",
        min_group_size=80,
        goals=(("usefulness", 7.0), ("hours_saved", 1_000_000.0)),
    )
    view = setup_modal(form, editing="p")
    assert view_errors(view) == []
    element = {bid: b["element"] for bid, b in inputs(view).items()}
    assert (element[MIN_GROUP_BLOCK]["initial_value"], element[MIN_GROUP_BLOCK]["max_value"]) == (
        "80",
        "80",
    )
    assert element[GOAL_USEFULNESS_BLOCK]["max_value"] == "7"
    assert element[GOAL_HOURS_BLOCK]["initial_value"] == "1000000"
    _, errors = read_setup(submitted(view))
    assert set(errors) == {MIN_GROUP_BLOCK, GOAL_USEFULNESS_BLOCK}
