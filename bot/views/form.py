"""The pieces a modal's form is made of: input blocks whose one element always has the action
id `ELEMENT`, and `FormReader`, which reads a `view_submission`'s state back block by block,
collecting an error per block instead of raising. Pure: data in, blocks out."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

# Every input block has one element, always with this action id.
ELEMENT = "value"
# Slack's checkboxes element holds at most this many options.
MAX_CHECKBOXES = 10
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def plain_text(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:limit], "emoji": True}


def placeholder_text(text: str) -> dict[str, Any]:
    return plain_text(text, 150)


def input_block(
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
        "label": plain_text(label, 2000),
        "element": {**element, "action_id": ELEMENT},
    }
    if hint:
        block["hint"] = plain_text(hint, 2000)
    return block


def text_input(
    initial: str | None,
    *,
    max_length: int,
    placeholder: str | None = None,
    multiline: bool = False,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "multiline": multiline,
        "max_length": max_length,
    }
    if initial:
        element["initial_value"] = initial[:max_length]
    if placeholder:
        element["placeholder"] = placeholder_text(placeholder)
    return element


def number_text(value: float) -> str:
    """A number as a number input shows it: 70, 3.5, 1000000; never 70.0, 1e+06 nor
    0.30000000000000004."""
    text = f"{round(value, 4):.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def number_input(
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
        "min_value": number_text(low),
        "placeholder": placeholder_text(placeholder),
    }
    if high is not None:
        element["max_value"] = number_text(high)
    if initial is not None:
        element["initial_value"] = number_text(initial)
    return element


def select_option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain_text(text, 75), "value": value[:150]}


def checkboxes(choices: Sequence[tuple[str, str]], checked: Sequence[str]) -> dict[str, Any]:
    """Checkboxes for (label, value) `choices`, those whose value is in `checked` ticked."""
    options = [select_option(label, value) for label, value in choices[:MAX_CHECKBOXES]]
    element: dict[str, Any] = {"type": "checkboxes", "options": options}
    ticked = [o for o in options if o["value"] in checked]
    # Slack refuses an empty `initial_options`: none ticked is said by leaving it out.
    if ticked:
        element["initial_options"] = ticked
    return element


# -- reading ----------------------------------------------------------------------------------


class FormReader:
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

    def typed(self, block_id: str) -> str | None:
        """What was typed, "" when the input was left empty; None when the form has no such
        input (one opened before it had it), so that saving it leaves that setting alone."""
        if block_id not in self.values:
            return None
        value = self.element(block_id).get("value")
        if value is None:
            return ""
        if not isinstance(value, str):
            self.fail(block_id, "This could not be read; type it again.")
            return None
        return value.strip()

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

    def checked(self, block_id: str) -> tuple[str, ...] | None:
        """The values of the ticked checkboxes, () when none is; None when the form has no such
        input (as `typed`)."""
        if block_id not in self.values:
            return None
        selected = self.element(block_id).get("selected_options")
        if selected is None:
            return ()
        if not isinstance(selected, list) or not all(
            isinstance(o, dict) and isinstance(o.get("value"), str) for o in selected
        ):
            self.fail(block_id, "This could not be read; choose again.")
            return None
        return tuple(dict.fromkeys(o["value"] for o in selected))

    def number(self, block_id: str, low: float, high: float | None, *, whole: bool) -> float | None:
        raw = self.element(block_id).get("value")
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        span = (
            f"from {number_text(low)} to {number_text(high)}"
            if high is not None
            else f"of at least {number_text(low)}"
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
