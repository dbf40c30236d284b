"""Events API bookkeeping: a Slack retry of an event already stored is answered and skipped."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_bolt import App, BoltResponse

from bot.checkins.event import already_handled

if TYPE_CHECKING:
    from bot.runtime.deps import Deps


def register(app: App, deps: Deps) -> None:
    def skip_handled_events(
        body: dict, context: dict, next: Callable[[], None]
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            context["event_id"] = event_id
            if already_handled(deps.db, event_id):
                return BoltResponse(status=200, body="")
        next()
        return None

    app.middleware(skip_handled_events)
