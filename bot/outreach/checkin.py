"""Sending a check-in: this period's check-in round, its opening question delivered to everyone
through the durable sender. The conversation that follows lives in `bot.checkins`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from slack_sdk import WebClient

from bot.outreach.delivery import Composer, Outbound, SendOptions, SendProgress
from bot.outreach.sending import SendResult, send_round
from bot.views.checkin import opener_blocks, opener_text
from storage import Database
from storage.models import Pilot, Round, RoundKind


def checkin_composer(pilot: Pilot, round_: Round) -> Composer:
    def compose(item: Outbound) -> dict:
        return {
            "text": opener_text(pilot.tool, item.first_name, pilot.workflow).replace("*", ""),
            "blocks": opener_blocks(
                pilot.tool, item.first_name, pilot.workflow, pilot.min_group_size, item.delivery_id
            ),
            "unfurl_links": False,
        }

    return compose


def send_checkins(
    db: Database,
    client: WebClient,
    pilot_name: str,
    *,
    now: datetime,
    options: SendOptions,
    on_progress: Callable[[SendProgress], None] | None = None,
) -> SendResult:
    """Open this period's check-in for the pilot and send its opening question to everyone."""
    return send_round(
        db,
        client,
        pilot_name,
        RoundKind.CHECKIN,
        checkin_composer,
        now=now,
        options=options,
        on_progress=on_progress,
    )
