"""A champion's nudge: this period's one reminder, sent to whoever has not answered, without
the champion learning who they are."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from slack_sdk import WebClient

from bot.errors import PulseError
from bot.outreach.delivery import SendOptions
from bot.outreach.reminder import send_reminder
from bot.pilots.champion import Action, may
from bot.pilots.pilot import find_pilot
from bot.views.status import refusal_text
from storage import Database


def nudge(
    db: Database,
    client: WebClient,
    slack_user_id: str,
    pilot_name: str,
    now: datetime,
    options: SendOptions,
    *,
    admins: Collection[str] = (),
) -> str:
    """A champion's nudge: this period's one reminder to whoever has not answered.

    The champion learns neither who was nudged nor, below the minimum group, how many.
    """
    with db.session() as session:
        # The pilot's name comes from a button anyone could rewrite: the right to nudge is
        # checked on that pilot, from the database.
        pilot = find_pilot(session, pilot_name)
        allowed = pilot is not None and may(
            session, slack_user_id, Action.NUDGE, pilot, admins=admins
        )
    if not allowed:
        return refusal_text()
    try:
        result = send_reminder(db, client, pilot_name, now=now, options=options)
    except PulseError as exc:
        return f"No nudge sent: {exc}."
    if result.already:
        return "This week's reminder has gone out already; nobody is reminded twice."
    # The same words whether it reached many, a few or nobody: with the deliveries shown in the
    # status, any count would give away how many answered, even when that figure is withheld.
    return "This week's reminder is on its way to anyone who hasn't answered yet."
