"""Slack listeners, thin: parse the payload, call `bot`, render, respond.

One module per Slack surface, each with `register(app)`. Callbacks are plain module-level
functions, so a search for an `action_id` constant finds its handler; what they need (`deps`)
Bolt passes in from the request's context, where the runtime's app factory puts it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers import events, home, manage, membership, messages, preferences, pulse, status

if TYPE_CHECKING:
    from slack_bolt import App

MODULES = (events, status, home, manage, pulse, preferences, messages, membership)


def register_all(app: App) -> None:
    """Wire every surface's listeners onto `app`."""
    for module in MODULES:
        module.register(app)
