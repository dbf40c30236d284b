"""The Block Kit pieces every view is made of, and the privacy line every DM carries."""

from __future__ import annotations

from typing import Any

PRIVACY_LINE = (
    "Only totals from {minimum} or more people are shared with the pilot team; "
    "your name is never attached."
)

Blocks = list[dict[str, Any]]


def text_block(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context_block(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def header_block(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150], "emoji": True}}


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text[:75], "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def privacy_line(minimum: int) -> str:
    return PRIVACY_LINE.format(minimum=minimum)
