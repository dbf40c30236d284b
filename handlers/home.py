"""The App Home tab: what pilot-pulse is, who sees what, the person's own pilots and words, and
the button that erases every answer they gave."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.pilots.participant import memberships_of
from bot.privacy.own_data import erase, words_of
from bot.views.home import ERASE_ACTION, home_view

if TYPE_CHECKING:
    from bot.runtime.deps import Deps


def publish_home(deps: Deps, client: WebClient, user_id: str) -> None:
    """Publish the person's Home tab as it is now (after the ack: it reads the database)."""
    view = home_view(
        memberships_of(deps.db, user_id),
        words_of(deps.db, user_id),
        deps.clock(),
        retention_days=deps.settings.retention_days,
    )
    client.views_publish(user_id=user_id, view=view)


def app_home_opened(event: dict, client: WebClient, deps: Deps) -> None:
    if event.get("tab", "home") == "home":
        deps.later(publish_home, deps, client, event["user"])


def erase_own_data(ack: Ack, body: dict, client: WebClient, deps: Deps) -> None:
    user_id = body["user"]["id"]
    erase(deps.db, user_id)
    ack()
    deps.later(publish_home, deps, client, user_id)


def register(app: App) -> None:
    app.event("app_home_opened")(app_home_opened)
    app.action(ERASE_ACTION)(erase_own_data)
