"""The App Home tab: what pilot-pulse is, who sees what, and the person's own pilots."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt import App
from slack_sdk import WebClient

from bot.home import home_view

if TYPE_CHECKING:
    from bot.deps import Deps


def register(app: App, deps: Deps) -> None:
    def app_home_opened(event: dict, client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        user_id = event["user"]
        deps.later(
            lambda: client.views_publish(
                user_id=user_id, view=home_view(deps.db, user_id, deps.clock())
            )
        )

    app.event("app_home_opened")(app_home_opened)
