"""The DM each delivery posts: the pulse (or its reminder) and the check-in's opening question,
rendered for one person by the views."""

from __future__ import annotations

from typing import Any

from bot.errors import PulseError
from bot.outreach.delivery import Composer, Outbound
from bot.pilots.period import PeriodError, zone
from bot.pilots.question import questions_of
from bot.views.checkin import opener_blocks, opener_text
from bot.views.pulse import SurveyContext, invite_blocks, invite_text
from storage import Database
from storage.models import Pilot, Purpose, Question, Round, RoundKind


def pulse_composer(pilot: Pilot, round_: Round, questions: tuple[Question, ...]) -> Composer:
    """Renders the pulse DM (or its reminder) for one person, dated in their own time zone."""

    def compose(item: Outbound) -> dict[str, Any]:
        try:
            local = zone(item.slack_tz or pilot.timezone)
        except PeriodError:
            local = zone(pilot.timezone)
        context = SurveyContext(
            delivery_id=item.invite_delivery_id,
            tool=pilot.tool,
            min_group_size=pilot.min_group_size,
            closes_at=round_.closes_at,
            questions=questions,
            local_zone=local,
        )
        return {
            "text": invite_text(context),
            "blocks": invite_blocks(
                context, item.first_name, reminder=item.purpose == Purpose.REMINDER
            ),
            "unfurl_links": False,
        }

    return compose


def checkin_composer(pilot: Pilot) -> Composer:
    """Renders a check-in's opening question for one person."""

    def compose(item: Outbound) -> dict[str, Any]:
        return {
            "text": opener_text(pilot.tool, item.first_name, pilot.workflow).replace("*", ""),
            "blocks": opener_blocks(
                pilot.tool, item.first_name, pilot.workflow, pilot.min_group_size, item.delivery_id
            ),
            "unfurl_links": False,
        }

    return compose


def composer_for(db: Database, pilot: Pilot, round_: Round) -> Composer:
    """The composer of a round's messages, by its kind."""
    if round_.kind == RoundKind.CHECKIN:
        return checkin_composer(pilot)
    with db.session() as session:
        questions = (
            tuple(questions_of(session, round_.question_set_id)) if round_.question_set_id else ()
        )
    if not questions:
        raise PulseError(
            "the pilot has no questions; import some with `pilot-pulse questions import`"
        )
    return pulse_composer(pilot, round_, questions)
