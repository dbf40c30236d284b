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


def someone_joined(event: dict, deps: Deps) -> None:
    """`member_joined_channel`: a followed channel gained someone."""
    if event.get("channel") and event.get("user"):
        deps.slowly(_joined, deps, event["channel"], event["user"])


def someone_left(event: dict, deps: Deps) -> None:
    """`member_left_channel`: a followed channel lost someone; one quick write."""
    if event.get("channel") and event.get("user"):
        member_left(deps.db, event["channel"], event["user"], deps.clock())


def someone_changed(event: dict, deps: Deps) -> None:
    """`user_change`: someone's profile changed; their time zone is the part we keep (one quick
    write), so their messages follow them from the next round on."""
    user = event.get("user") or {}
    if isinstance(user, dict) and user.get("id"):
        set_time_zone(deps.db, user["id"], user.get("tz"))


def register(app: App) -> None:
    app.event("member_joined_channel")(someone_joined)
    app.event("member_left_channel")(someone_left)
    app.event("user_change")(someone_changed)
