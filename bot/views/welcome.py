"""The DM a person gets when they join a pilot: what it is, what they will be asked, and who
sees what, with pause and stop right there. Pure: data in, blocks out."""

from __future__ import annotations

from bot.views.blocks import Blocks, context_block, privacy_line, text_block
from bot.views.preferences import controls, subject_value


def welcome_text(pilot: str, tool: str) -> str:
    return f"Welcome to the {pilot} pilot of {tool}"


def welcome_blocks(
    pilot: str,
    tool: str,
    workflow: str | None,
    minimum: int,
    participant_id: int,
    first_name: str | None,
    next_pulse: str,
) -> Blocks:
    hello = f"Hi {first_name}! " if first_name else "Hi! "
    about = f", to see how it helps with {workflow}" if workflow else ""
    return [
        text_block(
            f"{hello}You're now part of *{pilot}*, your team's pilot of *{tool}*{about}. "
            f"Once a week I'll ask a one-click question or two about it (the next on "
            f"{next_pulse}), and now and then for a short chat about what helps and what gets "
            "in the way."
        ),
        context_block(
            f"{privacy_line(minimum)} Your own answers are on my Home tab, where you can "
            "delete them."
        ),
        controls(subject_value(participant_id=participant_id), block_id="welcome_controls"),
    ]
