"""Setting a pilot up and running it from Slack, through the running app with signed requests:
the New and Edit pilot modals with every check, the Home tab for each role, an admin's buttons,
and every role refused when it is not theirs, whatever the payload says. Every test runs on
SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import select

from bot.devkit.slack_requests import SlackSender
from bot.devkit.slack_standin import SlackStandIn
from bot.pilots.pilot import find_pilot
from bot.views.home import END_PILOT_ACTION, SEND_DIGEST_ACTION, SEND_PULSE_ACTION
from bot.views.setup import (
    CHAMPIONS_BLOCK,
    EDIT_PILOT_ACTION,
    HOLIDAYS_BLOCK,
    LEADERSHIP_BLOCK,
    MEMBERS_BLOCK,
    MEMBERS_CHANNEL_BLOCK,
    MIN_GROUP_BLOCK,
    NAME_BLOCK,
    NEW_PILOT_ACTION,
    PULSE_DAY_BLOCK,
    PULSE_TIME_BLOCK,
    TOOL_BLOCK,
    WORKING_DAYS_BLOCK,
)
from storage.models import Participant, Pilot, Role
from tests.conftest import RunningApp
from tests.pulse_helpers import PEOPLE, make_pilot

BOSS = "U0BOSS"  # a workspace admin (ADMIN_USER_IDS)


@pytest.fixture
def boss(app: RunningApp, slack: SlackStandIn) -> str:
    slack.add_user(BOSS, real_name="Bea Boss", display_name="Bea")
    app.deps.settings = app.deps.settings.model_copy(update={"admin_user_ids": (BOSS,)})
    return BOSS


def wait(predicate: Callable[[], Any], timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def pilot(app: RunningApp, name: str) -> Pilot | None:
    with app.deps.db.session() as session:
        return find_pilot(session, name)


def state(**fields: Any) -> dict[str, Any]:
    """`view.state.values` as Slack sends them, by block id, for the fields given."""
    kinds = {
        NAME_BLOCK: lambda v: {"type": "plain_text_input", "value": v},
        TOOL_BLOCK: lambda v: {"type": "plain_text_input", "value": v},
        LEADERSHIP_BLOCK: lambda v: {"type": "conversations_select", "selected_conversation": v},
        MEMBERS_CHANNEL_BLOCK: lambda v: {
            "type": "multi_conversations_select",
            "selected_conversations": [v] if v else [],
        },
        MEMBERS_BLOCK: lambda v: {"type": "multi_users_select", "selected_users": list(v)},
        CHAMPIONS_BLOCK: lambda v: {"type": "multi_users_select", "selected_users": list(v)},
        MIN_GROUP_BLOCK: lambda v: {"type": "number_input", "value": str(v)},
        PULSE_DAY_BLOCK: lambda v: {
            "type": "static_select",
            "selected_option": {"text": {"type": "plain_text", "text": v}, "value": v},
        },
        PULSE_TIME_BLOCK: lambda v: {"type": "timepicker", "selected_time": v},
        WORKING_DAYS_BLOCK: lambda v: {
            "type": "checkboxes",
            "selected_options": [
                {"text": {"type": "plain_text", "text": day}, "value": day} for day in v
            ],
        },
        HOLIDAYS_BLOCK: lambda v: {"type": "plain_text_input", "value": v},
    }
    return {block: {"value": kinds[block](value)} for block, value in fields.items()}


def open_modal(
    sender: SlackSender, slack: SlackStandIn, user: str, action: str, value: str = "x"
) -> dict:
    before = len(slack.calls_to("views.open"))
    assert sender.action(user, action, value, block_id="home").status_code == 200
    return slack.wait_for("views.open", before + 1)[before].params["view"]


def submit(sender: SlackSender, user: str, view: dict, **fields: Any) -> dict:
    response = sender.view_submission(user, view, state(**fields))
    assert response.status_code == 200, response.text
    return response.json() if response.text else {}


GOOD = {
    NAME_BLOCK: "sales-chatgpt",
    TOOL_BLOCK: "ChatGPT Enterprise",
    LEADERSHIP_BLOCK: "C0LEADERS",
    MEMBERS_CHANNEL_BLOCK: "C0TEAM",
    CHAMPIONS_BLOCK: ("U0CHAMPION",),
    MIN_GROUP_BLOCK: 5,
    PULSE_DAY_BLOCK: "3",
    PULSE_TIME_BLOCK: "09:30",
}


def test_a_workspace_admin_sets_a_pilot_up_from_the_home_tab(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn, boss: str
) -> None:
    assert sender.event({"type": "app_home_opened", "user": boss, "tab": "home"}).status_code
    [home] = slack.wait_for("views.publish")
    assert NEW_PILOT_ACTION in json.dumps(home.params["view"])
    view = open_modal(sender, slack, boss, NEW_PILOT_ACTION)
    assert view["callback_id"] == "pilot_setup" and view["type"] == "modal"
    answer = submit(sender, boss, view, **GOOD)
    assert answer.get("response_action") != "errors", answer
    created = wait(lambda: pilot(app, "sales-chatgpt"))
    assert created.tool == "ChatGPT Enterprise" and created.member_channel_id == "C0TEAM"
    assert (created.pulse_weekday, created.pulse_hour, created.pulse_minute) == (3, 9, 30)
    with app.deps.db.session() as session:
        roles = {
            row.slack_user_id: row.role
            for row in session.exec(
                select(Participant).where(Participant.pilot_id == created.id)
            ).all()
        }
    assert roles[boss] == Role.ADMIN and roles["U0CHAMPION"] == Role.CHAMPION
    assert {p for p, role in roles.items() if role == Role.MEMBER} == set(PEOPLE)
    # The one who set it up is told, by DM, and on their Home tab.
    dm = wait(lambda: slack.messages.get("D" + boss[1:]))
    assert "sales-chatgpt is set up: 6 members" in dm[-1]["text"]


@pytest.mark.parametrize(
    ("change", "block", "words"),
    [
        ({NAME_BLOCK: "taken"}, NAME_BLOCK, "exists already"),
        ({TOOL_BLOCK: ""}, TOOL_BLOCK, "Say which AI tool"),
        ({LEADERSHIP_BLOCK: "C0NOBOT"}, LEADERSHIP_BLOCK, "/invite @pilot-pulse"),
        (
            {MEMBERS_CHANNEL_BLOCK: None, MEMBERS_BLOCK: ("U0PERSON1", "U0PERSON2")},
            MEMBERS_BLOCK,
            "That is 2 people",
        ),
        ({MEMBERS_CHANNEL_BLOCK: None}, MEMBERS_BLOCK, "Choose a channel"),
        ({MIN_GROUP_BLOCK: "two"}, MIN_GROUP_BLOCK, ""),
        (
            {HOLIDAYS_BLOCK: "2026-12-24, 24/12/2026"},
            HOLIDAYS_BLOCK,
            "'24/12/2026' is not a date: write dates as YYYY-MM-DD",
        ),
        ({HOLIDAYS_BLOCK: "2026-02-30"}, HOLIDAYS_BLOCK, "'2026-02-30' is not a date"),
        ({WORKING_DAYS_BLOCK: ()}, WORKING_DAYS_BLOCK, "Choose at least one working day"),
    ],
)
def test_each_wrong_field_gets_its_error_and_nothing_is_created(
    app: RunningApp,
    sender: SlackSender,
    slack: SlackStandIn,
    boss: str,
    change: dict,
    block: str,
    words: str,
) -> None:
    make_pilot(app.deps, "taken")
    view = open_modal(sender, slack, boss, NEW_PILOT_ACTION)
    fields = {**GOOD, **change}
    fields = {k: v for k, v in fields.items() if v is not None}
    answer = submit(sender, boss, view, **fields)
    assert answer["response_action"] == "errors" and words in answer["errors"][block]
    time.sleep(0.3)
    if fields.get(NAME_BLOCK) != "taken":
        assert pilot(app, fields[NAME_BLOCK]) is None
    assert slack.messages.get("D" + boss[1:]) is None


def test_a_champion_edits_their_pilot_and_not_another(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    make_pilot(app.deps)
    make_pilot(app.deps, "other-pilot")
    with app.deps.db.transaction() as session:
        other = find_pilot(session, "other-pilot")
        for row in session.exec(
            select(Participant).where(
                Participant.pilot_id == other.id, Participant.role != Role.MEMBER
            )
        ).all():
            session.delete(row)
    view = open_modal(sender, slack, "U0CHAMPION", EDIT_PILOT_ACTION, "support-copilot")
    blocks = json.dumps(view["blocks"])
    assert "Copilot" in blocks and "C0LEADERS" in blocks  # filled in
    answer = submit(
        sender,
        "U0CHAMPION",
        view,
        **{**{k: v for k, v in GOOD.items() if k != NAME_BLOCK}, TOOL_BLOCK: "Copilot Chat"},
    )
    assert answer.get("response_action") != "errors", answer
    wait(lambda: pilot(app, "support-copilot").tool == "Copilot Chat")
    # The same form, its metadata rewritten to the pilot they do not champion: refused.
    forged = {**view, "private_metadata": json.dumps({"editing": "other-pilot"})}
    answer = submit(sender, "U0CHAMPION", forged, **{TOOL_BLOCK: "Hijacked"})
    assert answer["response_action"] == "errors" and "can't do that" in json.dumps(answer)
    # Nor does the Edit button open that pilot's form.
    slack.clear()
    assert sender.action("U0CHAMPION", EDIT_PILOT_ACTION, "other-pilot").status_code == 200
    wait(lambda: slack.calls_to("views.publish"))
    assert slack.calls_to("views.open") == []
    time.sleep(0.3)
    assert pilot(app, "other-pilot").tool == "Copilot"


def test_only_admins_create_pilots_whatever_the_payload(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn, boss: str
) -> None:
    make_pilot(app.deps)
    # A champion (not an admin) clicks a "New pilot" button they were never shown.
    slack.clear()
    sender.action("U0CHAMPION", NEW_PILOT_ACTION, "x")
    [home] = wait(lambda: slack.calls_to("views.publish"))
    assert "can't do that" in json.dumps(home.params["view"])
    assert slack.calls_to("views.open") == []
    # And submits a New pilot form they built themselves.
    view = open_modal(sender, slack, boss, NEW_PILOT_ACTION)
    answer = submit(sender, "U0CHAMPION", view, **GOOD)
    assert answer["response_action"] == "errors"
    time.sleep(0.3)
    assert pilot(app, "sales-chatgpt") is None


@pytest.mark.parametrize(
    "action", [SEND_PULSE_ACTION, SEND_DIGEST_ACTION, END_PILOT_ACTION], ids=str
)
def test_admin_buttons_are_refused_to_champions(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn, action: str
) -> None:
    make_pilot(app.deps)
    slack.clear()
    sender.action("U0CHAMPION", action, "support-copilot")
    [home] = wait(lambda: slack.calls_to("views.publish"))
    assert "can't do that" in json.dumps(home.params["view"])
    assert slack.calls_to("chat.postMessage") == []
    assert pilot(app, "support-copilot").ended_at is None


def test_an_admin_sends_the_pulse_and_the_digest_now_and_ends_the_pilot(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn, boss: str
) -> None:
    make_pilot(app.deps)
    sender.action(boss, SEND_PULSE_ACTION, "support-copilot")
    wait(lambda: len(slack.calls_to("chat.postMessage")) >= 6)
    wait(lambda: any("sent to 6" in json.dumps(c.params) for c in slack.calls_to("views.publish")))
    sender.action(boss, SEND_DIGEST_ACTION, "support-copilot")
    wait(lambda: slack.messages.get("C0LEADERS"))
    sender.action(boss, END_PILOT_ACTION, "support-copilot")
    wait(lambda: pilot(app, "support-copilot").ended_at is not None)


def test_the_home_tab_shows_each_role_its_part(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn, boss: str
) -> None:
    make_pilot(app.deps)

    def home_of(user: str) -> str:
        before = len(slack.calls_to("views.publish"))
        sender.event({"type": "app_home_opened", "user": user, "tab": "home"})
        return json.dumps(slack.wait_for("views.publish", before + 1)[before].params["view"])

    member = home_of("U0PERSON1")
    assert "next pulse" in member.lower() and "5 or more people" in member
    assert EDIT_PILOT_ACTION not in member and SEND_PULSE_ACTION not in member
    champion = home_of("U0CHAMPION")
    assert EDIT_PILOT_ACTION in champion and SEND_PULSE_ACTION not in champion
    assert NEW_PILOT_ACTION not in champion
    admin = home_of(boss)
    for action in (EDIT_PILOT_ACTION, SEND_PULSE_ACTION, SEND_DIGEST_ACTION, END_PILOT_ACTION):
        assert action in admin
    assert NEW_PILOT_ACTION in admin


def test_working_days_and_holidays_are_set_up_shown_and_changed_from_the_modal(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn, boss: str
) -> None:
    view = open_modal(sender, slack, boss, NEW_PILOT_ACTION)
    calendar = {
        WORKING_DAYS_BLOCK: ("6", "0", "1", "2", "3"),
        HOLIDAYS_BLOCK: "2026-12-25 2026-12-24",
    }
    answer = submit(sender, boss, view, **GOOD, **calendar)
    assert answer.get("response_action") != "errors", answer
    created = wait(lambda: pilot(app, "sales-chatgpt"))
    assert created.working_days == 0b1001111  # Sunday to Thursday
    assert created.holidays == ["2026-12-24", "2026-12-25"]
    # Edit shows them as they are.
    view = open_modal(sender, slack, boss, EDIT_PILOT_ACTION, "sales-chatgpt")
    inputs = {b.get("block_id"): b.get("element", {}) for b in view["blocks"]}
    ticked = [o["value"] for o in inputs[WORKING_DAYS_BLOCK]["initial_options"]]
    assert ticked == ["0", "1", "2", "3", "6"]
    assert inputs[HOLIDAYS_BLOCK]["initial_value"] == "2026-12-24, 2026-12-25"
    # Back to Monday to Friday, the holidays emptied: saved, and the DM says what changed.
    unchanged = {k: v for k, v in GOOD.items() if k != NAME_BLOCK}
    edited = {WORKING_DAYS_BLOCK: ("0", "1", "2", "3", "4"), HOLIDAYS_BLOCK: ""}
    answer = submit(sender, boss, view, **unchanged, **edited)
    assert answer.get("response_action") != "errors", answer
    wait(lambda: pilot(app, "sales-chatgpt").holidays is None)
    assert pilot(app, "sales-chatgpt").working_days == 0b0011111
    note = wait(lambda: [m for m in slack.messages.get("D" + boss[1:], []) if "saved" in m["text"]])
    assert "working days: Sun–Thu → Mon–Fri" in note[-1]["text"]
    assert "holidays: 24 Dec 2026, 25 Dec 2026 → none" in note[-1]["text"]


def test_an_edit_with_a_bad_date_changes_nothing(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    make_pilot(app.deps)
    view = open_modal(sender, slack, "U0CHAMPION", EDIT_PILOT_ACTION, "support-copilot")
    fields = {k: v for k, v in GOOD.items() if k != NAME_BLOCK}
    answer = submit(
        sender,
        "U0CHAMPION",
        view,
        **fields,
        **{WORKING_DAYS_BLOCK: ("6", "0"), HOLIDAYS_BLOCK: "2026-12-24, tomorrow"},
    )
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [HOLIDAYS_BLOCK]
    assert "'tomorrow' is not a date" in answer["errors"][HOLIDAYS_BLOCK]
    time.sleep(0.3)
    saved = pilot(app, "support-copilot")
    assert (saved.working_days, saved.holidays, saved.tool) == (0b0011111, None, "Copilot")


def test_a_members_home_tab_shows_the_pilots_working_days(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    make_pilot(app.deps)
    with app.deps.db.transaction() as session:
        row = find_pilot(session, "support-copilot")
        row.working_days = 0b1001111  # Sunday to Thursday
        session.add(row)
    sender.event({"type": "app_home_opened", "user": "U0PERSON1", "tab": "home"})
    [home] = slack.wait_for("views.publish")
    assert "Working days: Sun–Thu" in json.dumps(home.params["view"], ensure_ascii=False)


def test_a_set_up_form_slack_no_longer_waits_for_says_so_on_the_home_tab(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn, boss: str
) -> None:
    slack.trigger_ttl = 0.0  # the work after the ack came after Slack's three seconds
    assert sender.action(boss, NEW_PILOT_ACTION, "x", block_id="home").status_code == 200
    [home] = wait(lambda: slack.calls_to("views.publish"))
    assert "press the button again" in json.dumps(home.params["view"])
    assert slack.views == {}
    slack.trigger_ttl = 3.0
    view = open_modal(sender, slack, boss, NEW_PILOT_ACTION)
    assert view["callback_id"] == "pilot_setup"
