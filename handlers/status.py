"""`/pilot-status [NAME]` and the pilot choice it may offer."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond

from bot.reporting.status import nudge, status_reply
from bot.views.blocks import NUDGE_ACTION

if TYPE_CHECKING:
    from bot.runtime.deps import Deps


def register(app: App, deps: Deps) -> None:
    def reply(user_id: str, requested: str | None, respond: Respond, *, replace: bool) -> None:
        status = status_reply(deps.db, user_id, requested, deps.clock())
        respond(
            text=status.text,
            blocks=status.blocks,
            response_type="ephemeral",
            replace_original=replace,
        )

    def pilot_status(ack: Ack, command: dict, respond: Respond) -> None:
        # Answer Slack at once; the figures follow through response_url.
        ack()
        deps.later(reply, command["user_id"], command.get("text"), respond, replace=False)

    def pick_pilot(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        deps.later(reply, body["user"]["id"], action.get("value"), respond, replace=True)

    def nudge_non_responders(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()

        def work() -> None:
            message = nudge(
                deps.db,
                deps.sending_client,
                body["user"]["id"],
                action.get("value", ""),
                deps.clock(),
                deps.send_options,
            )
            respond(text=message, response_type="ephemeral", replace_original=False)

        deps.slowly(work)

    app.command("/pilot-status")(pilot_status)
    app.action(NUDGE_ACTION)(nudge_non_responders)
    app.action(re.compile(r"^status_pick_\d+$"))(pick_pilot)
