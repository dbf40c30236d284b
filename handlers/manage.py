"""Running a pilot from the Home tab: the New/Edit pilot modal and what its submission does, and
an admin's "Send pulse now", "Send digest now" and "End pilot".

Whatever a button or the modal says (a pilot's name, which pilot is being edited), the right
to act is checked again here, from the database; a tampered value changes nothing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import PulseError, slack_error_code
from bot.outreach.digest import post_digest
from bot.outreach.sending import send_pulse
from bot.outreach.welcome import welcome
from bot.pilots.champion import Action, may
from bot.pilots.pilot import find_pilot
from bot.pilots.setup import (
    HOLIDAYS,
    LEADERSHIP,
    MEMBERS,
    MIN_GROUP,
    NAME,
    TOOL,
    check_form,
    create_from,
    form_of,
    may_set_up,
    update_of,
)
from bot.pilots.update import end_pilot, update_pilot
from bot.views.home import END_PILOT_ACTION, SEND_DIGEST_ACTION, SEND_PULSE_ACTION
from bot.views.setup import (
    EDIT_PILOT_ACTION,
    HOLIDAYS_BLOCK,
    LEADERSHIP_BLOCK,
    MEMBERS_BLOCK,
    MIN_GROUP_BLOCK,
    NAME_BLOCK,
    NEW_PILOT_ACTION,
    SETUP_CALLBACK,
    TOOL_BLOCK,
    PilotForm,
    editing_of,
    read_setup,
    setup_modal,
)
from handlers.home import publish_home
from handlers.respond import EXPIRED_TRIGGER, TOO_SLOW, open_view

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)

# Which block of the modal each of the domain's checks speaks to.
_BLOCKS = {
    NAME: NAME_BLOCK,
    TOOL: TOOL_BLOCK,
    LEADERSHIP: LEADERSHIP_BLOCK,
    MEMBERS: MEMBERS_BLOCK,
    MIN_GROUP: MIN_GROUP_BLOCK,
    HOLIDAYS: HOLIDAYS_BLOCK,
}
NOT_ALLOWED = "You can't do that for this pilot: ask one of its admins."


def _groups(client: WebClient) -> list[tuple[str, str]]:
    """The workspace's user groups for the picker; none when Slack will not say (no scope)."""
    try:
        groups = client.usergroups_list().get("usergroups") or []
    except SlackApiError as exc:
        log.info("no user groups for the set-up modal: %s", slack_error_code(exc))
        return []
    return [(g["id"], g.get("name") or g.get("handle") or g["id"]) for g in groups]


def _open_modal(deps: Deps, client: WebClient, body: dict, pilot_name: str | None) -> None:
    user_id = body["user"]["id"]
    allowed, pilot = may_set_up(deps.db, user_id, pilot_name, admins=deps.settings.admin_user_ids)
    if not allowed:
        publish_home(deps, client, user_id, NOT_ALLOWED)
        return
    form, timezone = PilotForm(), None
    if pilot is not None:
        with deps.db.session() as session:
            form, timezone = form_of(session, pilot), pilot.timezone
    modal = setup_modal(form, editing=pilot_name, groups=_groups(client), timezone=timezone)
    if open_view(client, body["trigger_id"], modal, "set-up modal") == EXPIRED_TRIGGER:
        # A Home tab button has no thread to answer in: the notice goes on the Home tab.
        publish_home(deps, client, user_id, TOO_SLOW)


def new_pilot(ack: Ack, body: dict, client: WebClient, deps: Deps) -> None:
    """ "New pilot" on the Home tab: the empty form (within Slack's three seconds)."""
    ack()
    deps.later(_open_modal, deps, client, body, None)


def edit_pilot(ack: Ack, body: dict, action: dict, client: WebClient, deps: Deps) -> None:
    """ "Edit" on a pilot of the Home tab: the form, filled in."""
    ack()
    deps.later(_open_modal, deps, client, body, action.get("value") or "")


def submit_setup(ack: Ack, body: dict, view: dict, client: WebClient, deps: Deps) -> None:
    """The form sent: checked at once, with an error beside each wrong field; when it is
    right, the modal closes and the pilot is made (or changed) after the answer."""
    user_id = body["user"]["id"]
    try:
        editing = editing_of(view)
    except ValueError:
        ack()
        return
    form, errors = read_setup(view)
    first_block = NAME_BLOCK if editing is None else TOOL_BLOCK
    allowed, _ = may_set_up(deps.db, user_id, editing, admins=deps.settings.admin_user_ids)
    if not allowed:
        ack(response_action="errors", errors={first_block: NOT_ALLOWED})
        return
    for field, message in check_form(deps.db, client, form, editing=editing).items():
        errors.setdefault(
            _BLOCKS[field] if editing is None or field != NAME else TOOL_BLOCK, message
        )
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    deps.slowly(_apply, deps, client, user_id, form, editing)


def _apply(
    deps: Deps, client: WebClient, user_id: str, form: PilotForm, editing: str | None
) -> None:
    now = deps.clock()
    try:
        if editing is None:
            created = create_from(deps.db, client, form, user_id, now)
            pilot = created.pilot.name
            left_out = len(created.left_out)
            note = (
                f"Pilot {pilot} is set up: {created.members} members"
                + (f" ({left_out} left out: bots or deactivated accounts)" if left_out else "")
                + ". The first pulse goes out at its slot; you can edit it from my Home tab."
                if created.created
                else f"A pilot called {pilot} exists already; nothing was created."
            )
        else:
            result = update_pilot(deps.db, client, editing, update_of(form), now)
            welcome(deps.db, client, result.pilot, result.membership.joined)
            pilot = result.pilot
            note = (
                f"Pilot {pilot} saved: " + "; ".join(result.changes)
                if result.changes
                else f"Pilot {pilot} was already as you set it; nothing changed."
            )
    except PulseError as exc:
        note = f"Sorry, that didn't work: {exc}."
    client.chat_postMessage(channel=user_id, text=note[:3000])
    publish_home(deps, client, user_id, note[:3000])


def _send_pulse(deps: Deps, client: WebClient, user_id: str, pilot_name: str) -> None:
    line = _allowed_line(deps, user_id, pilot_name, Action.SEND_NOW)
    if line is None:
        try:
            result = send_pulse(
                deps.db,
                deps.sending_client,
                pilot_name,
                now=deps.clock(),
                options=deps.send_options,
            )
            sent = result.progress.sent if result.progress else 0
            line = result.note or f"Pulse for {result.period}: sent to {sent} people."
        except PulseError as exc:
            line = f"No pulse sent: {exc}."
    publish_home(deps, client, user_id, line)


def _send_digest(deps: Deps, client: WebClient, user_id: str, pilot_name: str) -> None:
    line = _allowed_line(deps, user_id, pilot_name, Action.SEND_NOW)
    if line is None:
        try:
            line = post_digest(
                deps.db, client, pilot_name, period=None, now=deps.clock(), llm=deps.llm
            ).note
        except PulseError as exc:
            line = f"No digest posted: {exc}."
    publish_home(deps, client, user_id, line)


def _end(deps: Deps, client: WebClient, user_id: str, pilot_name: str) -> None:
    line = _allowed_line(deps, user_id, pilot_name, Action.END)
    if line is None:
        ended = end_pilot(deps.db, pilot_name, deps.clock())
        line = (
            f"Pilot {pilot_name} has ended: no more pulses, check-ins or digests; its figures stay."
            if ended.ended
            else f"Pilot {pilot_name} had ended already."
        )
    publish_home(deps, client, user_id, line)


def _allowed_line(deps: Deps, user_id: str, pilot_name: str, action: Action) -> str | None:
    """None when the person may do `action` on the pilot now; else why not."""
    with deps.db.session() as session:
        pilot = find_pilot(session, pilot_name)
        if pilot is None or not may(
            session, user_id, action, pilot, admins=deps.settings.admin_user_ids
        ):
            return NOT_ALLOWED
        if pilot.ended_at is not None:
            return f"Pilot {pilot.name} has ended."
    return None


def send_pulse_now(ack: Ack, body: dict, action: dict, client: WebClient, deps: Deps) -> None:
    ack()
    deps.slowly(_send_pulse, deps, client, body["user"]["id"], action.get("value") or "")


def send_digest_now(ack: Ack, body: dict, action: dict, client: WebClient, deps: Deps) -> None:
    ack()
    deps.slowly(_send_digest, deps, client, body["user"]["id"], action.get("value") or "")


def end_pilot_now(ack: Ack, body: dict, action: dict, client: WebClient, deps: Deps) -> None:
    ack()
    deps.later(_end, deps, client, body["user"]["id"], action.get("value") or "")


def register(app: App) -> None:
    app.action(NEW_PILOT_ACTION)(new_pilot)
    app.action(EDIT_PILOT_ACTION)(edit_pilot)
    app.view(SETUP_CALLBACK)(submit_setup)
    app.action(SEND_PULSE_ACTION)(send_pulse_now)
    app.action(SEND_DIGEST_ACTION)(send_digest_now)
    app.action(END_PILOT_ACTION)(end_pilot_now)
