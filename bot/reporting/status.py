"""`/pilot-status`: which pilot's figures a person may see, and the reply they get."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.outreach.round import current_period
from bot.pilots.champion import is_surveyed, pilots_visible_to
from bot.pilots.pilot import count_pilots
from bot.reporting.frictions import voices
from bot.reporting.metrics import period_figures, rounds_of_period
from bot.views import status as views
from storage import Database
from storage.models import RoundKind


@dataclass
class StatusReply:
    text: str
    blocks: list[dict[str, Any]] | None = None
    figures: Any = field(default=None, repr=False)


def status_reply(
    db: Database,
    slack_user_id: str,
    requested: str | None,
    now: datetime,
    *,
    admins: Collection[str] = (),
) -> StatusReply:
    """What `slack_user_id` sees for `/pilot-status [requested]`.

    Anyone who is not a champion or admin of the pilot gets the same polite refusal whether the
    pilot exists or not, so the command reveals no figures and no pilot names.
    """
    requested = (requested or "").strip() or None
    with db.session() as session:
        if count_pilots(session) == 0:
            return StatusReply(text=views.no_pilot_text())
        visible = pilots_visible_to(session, slack_user_id, admins=admins)
        if requested is not None:
            visible = [p for p in visible if p.name.casefold() == requested.casefold()]
        if not visible:
            return StatusReply(text=views.refusal_text())
        if len(visible) > 1:
            names = [p.name for p in visible]
            return StatusReply(text="Which pilot?", blocks=views.pilot_choice_blocks(names))
        pilot = visible[0]
        period = current_period(session, pilot, RoundKind.PULSE, now)
        in_group = is_surveyed(session, pilot, slack_user_id)
        figures = period_figures(session, pilot, period, now=now, viewer_in_group=in_group)
        # The same frictions and wins as the digest, under the same rule (one more person
        # when the champion answers the pulse too).
        found = voices(session, rounds_of_period(session, pilot.id, period), figures.min_group_size)
    return StatusReply(
        text=views.status_text(figures),
        blocks=views.status_blocks(figures, found),
        figures=figures,
    )
