"""Pause, stop and start again: the buttons every DM and the Home tab carry, the value that
names whose messages they are about, and the confirmations. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.views.blocks import Blocks, button, text_block

# The action ids keep their first surface's prefix: renaming them would break the buttons of
# messages already sitting in people's DMs.
PAUSE_ACTION = "pulse_pause"
STOP_ACTION = "pulse_stop"
RESUME_ACTION = "pulse_resume"


@dataclass(frozen=True)
class Subject:
    """Whose messages a choice is about: a delivery (from a DM) or a participant (from the Home
    tab, where there may be no delivery yet)."""

    delivery_id: int | None = None
    participant_id: int | None = None


def subject_value(*, delivery_id: int | None = None, participant_id: int | None = None) -> str:
    """The button value naming a `Subject`."""
    return f"d:{delivery_id}" if delivery_id is not None else f"p:{participant_id}"


def parse_subject(value: str) -> Subject | None:
    """The `Subject` of a button value, or None when it is not one of ours."""
    kind, _, number = value.partition(":")
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
    if not (number.isascii() and number.isdigit()) or kind not in ("d", "p"):
        return None
    if kind == "d":
        return Subject(delivery_id=int(number))
    return Subject(participant_id=int(number))


def stop_button(subject: str) -> dict[str, Any]:
    """ "Stop these messages", with Slack's own confirmation dialog before it takes effect."""
    stop = button("Stop these messages", STOP_ACTION, subject)
    stop["confirm"] = {
        "title": {"type": "plain_text", "text": "Stop pilot-pulse?"},
        "text": {
            "type": "mrkdwn",
            "text": "You won't get pulses or check-ins for this pilot any more. You can start again from the app's Home tab.",
        },
        "confirm": {"type": "plain_text", "text": "Stop"},
        "deny": {"type": "plain_text", "text": "Keep them"},
    }
    return stop


def controls(subject: str, *, block_id: str = "pulse_controls") -> dict[str, Any]:
    """Pause and stop, in a DM or on the Home tab."""
    return {
        "type": "actions",
        "block_id": block_id,
        "elements": [button("Pause for 2 weeks", PAUSE_ACTION, subject), stop_button(subject)],
    }


def paused_blocks(pilot: str, until: str, subject: str) -> Blocks:
    return [
        text_block(f"Paused until {until}: no pulses or check-ins for *{pilot}* until then."),
        {"type": "actions", "elements": [button("Resume now", RESUME_ACTION, subject)]},
    ]


def stopped_blocks(pilot: str, subject: str) -> Blocks:
    return [
        text_block(
            f"Done: you won't get pilot-pulse messages for *{pilot}* any more. "
            "Your past answers stay anonymous in the totals."
        ),
        {"type": "actions", "elements": [button("Start again", RESUME_ACTION, subject)]},
    ]


def resumed_text(pilot: str) -> str:
    return f"Welcome back: you will get the weekly pulse for *{pilot}* again."
