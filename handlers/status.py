"""`/pilot-status [NAME]`, the pilot choice it may offer, and its nudge button."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond

from bot.outreach.nudge import nudge
from bot.reporting.status import status_reply
from bot.views.status import NUDGE_ACTION, PICK_ACTION_PATTERN

if TYPE_CHECKING:
    from bot.runtime.deps import Deps


def _reply(
    deps: Deps, user_id: str, requested: str | None, respond: Respond, replace: bool
) -> None:
    status = status_reply(
        deps.db, user_id, requested, deps.clock(), admins=deps.settings.admin_user_ids
    )
    respond(
        text=status.text, blocks=status.blocks, response_type="ephemeral", replace_original=replace
    )


def pilot_status(ack: Ack, command: dict, respond: Respond, deps: Deps) -> None:
    # Answer Slack at once; the figures follow through response_url.
    ack()
    deps.later(_reply, deps, command["user_id"], command.get("text"), respond, False)


def pick_pilot(ack: Ack, body: dict, action: dict, respond: Respond, deps: Deps) -> None:
    ack()
    deps.later(_reply, deps, body["user"]["id"], action.get("value"), respond, True)


def _nudge(deps: Deps, user_id: str, pilot_name: str, respond: Respond) -> None:
    message = nudge(
        deps.db,
        deps.sending_client,
        user_id,
        pilot_name,
        deps.clock(),
        deps.send_options,
        admins=deps.settings.admin_user_ids,
    )
    respond(text=message, response_type="ephemeral", replace_original=False)


def nudge_non_responders(ack: Ack, body: dict, action: dict, respond: Respond, deps: Deps) -> None:
    ack()
    deps.slowly(_nudge, deps, body["user"]["id"], action.get("value", ""), respond)


def register(app: App) -> None:
    app.command("/pilot-status")(pilot_status)
    app.action(NUDGE_ACTION)(nudge_non_responders)
    app.action(re.compile(PICK_ACTION_PATTERN))(pick_pilot)
