"""A pilot follows its channel: people who join get in (with a welcome DM), people who leave
get no more rounds; and someone who moves keeps getting their messages in their own morning.
Slack is answered at once; the lookups and DMs follow."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt import App

from bot.outreach.welcome import welcome
from bot.pilots.participant import set_time_zone
from bot.pilots.update import member_joined, member_left

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)


def _joined(deps: Deps, channel: str, user: str) -> None:
    for pilot in member_joined(deps.db, deps.client, channel, user, deps.clock()):
        welcome(deps.db, deps.client, pilot.name, [user], deps.clock())
        log.info("%s joined pilot %s from its channel", user, pilot.name)


def _channel_and_user(event: dict) -> tuple[str, str] | None:
    channel, user = event.get("channel"), event.get("user")
    if isinstance(channel, str) and isinstance(user, str) and channel and user:
        return channel, user
    return None


def someone_joined(event: dict, deps: Deps) -> None:
    """`member_joined_channel`: a followed channel gained someone."""
    if found := _channel_and_user(event):
        deps.slowly(_joined, deps, *found)


def someone_left(event: dict, deps: Deps) -> None:
    """`member_left_channel`: a followed channel lost someone; one quick write."""
    if found := _channel_and_user(event):
        member_left(deps.db, *found, deps.clock())


def someone_changed(event: dict, deps: Deps) -> None:
    """`user_change`: someone's profile changed; their time zone is the part we keep (one quick
    write), so their messages follow them from the next round on."""
    user = event.get("user") or {}
    if isinstance(user, dict) and isinstance(user.get("id"), str):
        timezone = user.get("tz")
        set_time_zone(deps.db, user["id"], timezone if isinstance(timezone, str) else None)


def register(app: App) -> None:
    app.event("member_joined_channel")(someone_joined)
    app.event("member_left_channel")(someone_left)
    app.event("user_change")(someone_changed)
