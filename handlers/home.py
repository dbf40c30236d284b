"""The App Home tab, for each role: a participant's pilots, when they will next hear from each,
who sees what, and their own words; a champion's or admin's pilots with their figures and
controls; "New pilot" for those who may create one. The button that erases a person's answers
is here too."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import slack_error_code
from bot.pilots.champion import Action, may
from bot.pilots.participant import memberships_of
from bot.pilots.schedule import local_when
from bot.privacy.own_data import erase, words_of
from bot.reporting.status import overview
from bot.views.home import ERASE_ACTION, HomeData, home_view, participant_pilot

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)


def publish_home(deps: Deps, client: WebClient, user_id: str, notice: str | None = None) -> None:
    """Publish the person's Home tab as it is now (after the ack: it reads the database)."""
    now = deps.clock()
    admins = deps.settings.admin_user_ids
    memberships = memberships_of(deps.db, user_id, now)
    participating = [
        participant_pilot(
            m,
            now,
            next_pulse=local_when(m.next_pulse, m.slack_tz, m.pilot_timezone)
            if m.next_pulse and m.surveyed
            else None,
            next_checkin=local_when(m.next_checkin, m.slack_tz, m.pilot_timezone)
            if m.next_checkin and m.surveyed
            else None,
            working_days=m.working_days,
            holidays=m.holidays,
        )
        for m in memberships
    ]
    with deps.db.session() as session:
        may_create = may(session, user_id, Action.CREATE, admins=admins)
    view = home_view(
        HomeData(
            participating=participating,
            written=words_of(deps.db, user_id),
            managed=overview(deps.db, user_id, now, admins=admins),
            may_create=may_create,
            notice=notice,
            retention_days=deps.settings.retention_days,
        )
    )
    try:
        client.views_publish(user_id=user_id, view=view)
    except SlackApiError as exc:
        # The tab is drawn again the next time it is opened; nothing else waits on it.
        log.warning("could not publish the Home tab of %s: %s", user_id, slack_error_code(exc))


def app_home_opened(event: dict, client: WebClient, deps: Deps) -> None:
    user = event.get("user")
    if event.get("tab", "home") == "home" and isinstance(user, str) and user:
        deps.later(publish_home, deps, client, user)


def erase_own_data(ack: Ack, body: dict, client: WebClient, deps: Deps) -> None:
    user_id = body["user"]["id"]
    erase(deps.db, user_id)
    ack()
    deps.later(publish_home, deps, client, user_id, "Every answer you gave has been deleted.")


def register(app: App) -> None:
    app.event("app_home_opened")(app_home_opened)
    app.action(ERASE_ACTION)(erase_own_data)
