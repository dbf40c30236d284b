"""`/pilot-status`: which pilot's figures a person may see, and the reply they get."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.outreach.round import current_period
from bot.pilots.champion import Action, is_surveyed, may, pilots_visible_to, role_in
from bot.pilots.pilot import count_pilots
from bot.reporting.frictions import voices
from bot.reporting.metrics import period_figures, rounds_of_period
from bot.views import status as views
from bot.views.home import ManagedPilot
from storage import Database
from storage.models import Role, RoundKind


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


OVERVIEW_MOST = 15


def overview(
    db: Database, slack_user_id: str, now: datetime, *, admins: Collection[str] = ()
) -> list[ManagedPilot]:
    """The pilots `slack_user_id` runs (at most OVERVIEW_MOST), each with this period's
    headline figures as they may see them (the minimum-group rule applied, one more person
    when they answer the pulse themselves)."""
    shown: list[ManagedPilot] = []
    with db.session() as session:
        for pilot in pilots_visible_to(session, slack_user_id, admins=admins)[:OVERVIEW_MOST]:
            role = role_in(session, pilot.id, slack_user_id)
            period = current_period(session, pilot, RoundKind.PULSE, now)
            in_group = is_surveyed(session, pilot, slack_user_id)
            figures = period_figures(session, pilot, period, now=now, viewer_in_group=in_group)
            found = voices(
                session,
                rounds_of_period(session, pilot.id, period),
                figures.min_group_size,
                quotes=False,
            )
            usefulness = next((q for q in figures.questions if q.key == "usefulness"), None)
            ended = pilot.ended_at is not None
            shown.append(
                ManagedPilot(
                    name=pilot.name,
                    tool=pilot.tool,
                    # A workspace admin runs every pilot as its admins do.
                    role=Role.CHAMPION if role == Role.CHAMPION else Role.ADMIN,
                    period=period,
                    min_group_size=figures.min_group_size,
                    members=figures.people.members,
                    pulse_sent=bool(figures.addressed),
                    answered=figures.responded,
                    invited=figures.invited if figures.addressed else None,
                    response_rate=figures.response_rate,
                    usefulness=usefulness.mean if usefulness else None,
                    weekly_use=figures.adoption.weekly_usage,
                    top_friction=found.frictions[0].label if found.frictions else None,
                    can_nudge=not ended
                    and figures.round_open
                    and bool(figures.delivered)
                    and not figures.reminded
                    and may(session, slack_user_id, Action.NUDGE, pilot, admins=admins),
                    leadership_channel=pilot.leadership_channel,
                    ended=ended,
                )
            )
    return shown
