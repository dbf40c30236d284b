"""Events API bookkeeping: a Slack retry of an event already stored is answered and skipped."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_bolt import App, BoltContext, BoltResponse

from bot.checkins.event import already_handled, is_event_id

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

# The events whose handling is not idempotent by itself: a DM to the bot (a second answer to
# it would be posted). Joins, leaves, time zones and Home tabs set the same state however often
# they come, so they cost no lookup.
GUARDED_EVENTS = frozenset({"message"})


def skip_handled_events(
    body: dict, context: BoltContext, next: Callable[[], None], deps: Deps
) -> BoltResponse | None:
    """Answer a retried DM event that was stored before with a quiet 200, and skip it; give
    the listeners the event id, so that they store it with what they store."""
    event = body.get("event") if body.get("type") == "event_callback" else None
    if isinstance(event, dict) and event.get("type") in GUARDED_EVENTS:
        event_id = body.get("event_id")
        if not is_event_id(event_id):
            # Not an id Slack gives: it could be neither looked up nor stored.
            return BoltResponse(status=400, body="")
        context["event_id"] = event_id
        if already_handled(deps.db, event_id):
            return BoltResponse(status=200, body="")
    next()
    return None


def register(app: App) -> None:
    app.middleware(skip_handled_events)
