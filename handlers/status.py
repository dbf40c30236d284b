"""`/pilot-status [NAME]`, the pilot choice it may offer, and its nudge button."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.outreach.nudge import nudge
from bot.reporting.status import status_reply
from bot.views.status import NUDGE_ACTION, PICK_ACTION_PATTERN
from handlers.home import publish_home

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


def _nudge(
    deps: Deps, user_id: str, pilot_name: str, respond: Respond | None, client: WebClient
) -> None:
    message = nudge(
        deps.db,
        deps.sending_client,
        user_id,
        pilot_name,
        deps.clock(),
        deps.send_options,
        admins=deps.settings.admin_user_ids,
    )
    if respond is None:
        # Pressed on the Home tab, which has no response_url: the answer is the tab's notice.
        publish_home(deps, client, user_id, message)
    else:
        respond(text=message, response_type="ephemeral", replace_original=False)


def nudge_non_responders(
    ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient, deps: Deps
) -> None:
    """ "Nudge non-responders", under `/pilot-status`'s figures or on the Home tab."""
    ack()
    reply = respond if isinstance(body.get("response_url"), str) else None
    deps.slowly(_nudge, deps, body["user"]["id"], action.get("value", ""), reply, client)


def register(app: App) -> None:
    app.command("/pilot-status")(pilot_status)
    app.action(NUDGE_ACTION)(nudge_non_responders)
    app.action(re.compile(PICK_ACTION_PATTERN))(pick_pilot)
