"""Events API bookkeeping: a Slack retry of an event already stored is answered and skipped."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_bolt import App, BoltContext, BoltResponse

from bot.checkins.event import already_handled

if TYPE_CHECKING:
    from bot.runtime.deps import Deps


def skip_handled_events(
    body: dict, context: BoltContext, next: Callable[[], None], deps: Deps
) -> BoltResponse | None:
    """Answer a retried event that was stored before with a quiet 200, and skip it; give the
    listeners the event id, so that they store it with what they store."""
    event_id = body.get("event_id") if body.get("type") == "event_callback" else None
    if event_id:
        context["event_id"] = event_id
        if already_handled(deps.db, event_id):
            return BoltResponse(status=200, body="")
    next()
    return None


def register(app: App) -> None:
    app.middleware(skip_handled_events)
