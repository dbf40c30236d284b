"""Slack listeners, thin: parse the payload, call `bot`, render, respond.

One module per Slack surface, each with `register(app, deps)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers import events, home, messages, pulse, status

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.runtime.deps import Deps

MODULES = (events, status, home, pulse, messages)


def register_all(app: App, deps: Deps) -> None:
    """Wire every surface's listeners onto `app`."""
    for module in MODULES:
        module.register(app, deps)
