"""A pilot over its weeks: `pilot update` and `pilot end`, membership that follows its channel
or user group (events and the daily reconciliation), roles checked on the server, and a
schedule change picked up by a running clock. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlmodel import select

from bot.devkit.slack_requests import SlackSender
from bot.devkit.slack_standin import SlackStandIn
from bot.pilots.champion import Action, may
from bot.pilots.period import period_of, shift
from bot.pilots.pilot import get_pilot
from bot.pilots.schedule import Slot, instant, personal_instant
from bot.runtime.cli import main
from bot.runtime.clock import Clock
from bot.runtime.deps import Deps
from storage.models import Delivery, DeliveryStatus, Participant, Pilot, Role
from tests.conftest import RunningApp
from tests.pulse_helpers import PEOPLE, dm_channel, make_pilot, send, tick_at

PILOT = "support-copilot"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def people(deps: Deps, **where: object) -> dict[str, Participant]:
    with deps.db.session() as session:
        pilot = get_pilot(session, PILOT)
        rows = session.exec(select(Participant).where(Participant.pilot_id == pilot.id)).all()
    return {row.slack_user_id: row for row in rows}


def active(deps: Deps) -> set[str]:
    return {u for u, row in people(deps).items() if row.surveyed and row.left_at is None}


def pilot_row(deps: Deps) -> Pilot:
    with deps.db.session() as session:
        return get_pilot(session, PILOT)


def test_update_changes_settings_and_says_what_changed_and_nothing_twice(
    env: dict, deps: Deps, capsys: pytest.CaptureFixture[str]
) -> None:
    make_pilot(deps)
    args = ["pilot", "update", PILOT, "--tool", "Copilot Chat", "--workflow", "ticket replies"]
    args += ["--timezone", "Europe/Berlin", "--min-group-size", "6", "--goal", "usefulness=4"]
    args += ["--pulse-day", "wed", "--pulse-time", "09:30", "--digest-time", "08:15"]
    code, out, err = run(capsys, *args)
    assert code == 0, err
    for line in (
        "tool: Copilot → Copilot Chat",
        "time zone: America/New_York → Europe/Berlin",
        "workflow: none → ticket replies",
        "minimum group: 5 → 6",
        "pulse: Tue 10:00 → Wed 09:30",
        "digest: Mon 11:00 → Mon 08:15",
        "goal usefulness: none → 4",
    ):
        assert line in out
    pilot = pilot_row(deps)
    assert (pilot.pulse_weekday, pilot.pulse_hour, pilot.pulse_minute) == (2, 9, 30)
    assert pilot.min_group_size == 6 and pilot.workflow == "ticket replies"
    code, out, _ = run(capsys, *args)
    assert code == 0 and "nothing changed" in out


def mondays(count: int) -> list[str]:
    """`count` Mondays from this week's on, as ISO dates."""
    today = datetime.now(UTC).date()
    first = today - timedelta(days=today.weekday())
    return [(first + timedelta(weeks=n)).isoformat() for n in range(count)]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--min-group-size", "2"], "--min-group-size: at least 3"),
        (["--pulse-day", "someday"], "--pulse-day: expected a weekday"),
        (["--checkin-time", "25:00"], "--checkin-time: expected a time such as 09:30"),
        (["--timezone", "Mars/Base"], "unknown time zone 'Mars/Base'"),
        (["--members-from-channel", "general"], "--members-from-channel: expected a channel ID"),
        (["--add-champions", "bob"], "--add-champions: expected user IDs"),
        (["--goal", "speed=3"], "unknown goal 'speed'"),
        (["--working-days", "mon-funday"], "--working-days: expected a weekday"),
        (["--working-days", " , "], "--working-days: expected at least one working day"),
        (["--holidays", "2026-12-24,24/12/2026"], "--holidays: expected dates as YYYY-MM-DD"),
        (["--holidays", "20261224"], "--holidays: expected dates as YYYY-MM-DD"),
        (["--holidays", "2026-02-30"], "--holidays: expected dates as YYYY-MM-DD"),
        (
            ["--working-days", "mon", "--holidays", ",".join(mondays(130))],
            "--holidays: with these working days and holidays nobody works",
        ),
    ],
)
def test_a_bad_update_is_one_line_and_changes_nothing(
    env: dict,
    deps: Deps,
    slack: SlackStandIn,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    expected: str,
) -> None:
    make_pilot(deps)
    before = pilot_row(deps)
    slack.clear()
    code, _, err = run(capsys, "pilot", "update", PILOT, *extra)
    assert code == 1 and expected in err and err.count("\n") == 1
    assert pilot_row(deps).model_dump() == before.model_dump()
    assert slack.calls_to("users.info") == []


def test_update_sets_working_days_and_replaces_and_clears_holidays(
    env: dict, deps: Deps, slack: SlackStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    make_pilot(deps)
    args = ["pilot", "update", PILOT, "--working-days", "sun-thu"]
    code, out, err = run(capsys, *args, "--holidays", "2026-12-25, 2026-12-24")
    assert code == 0, err
    assert "working days: Mon–Fri → Sun–Thu" in out
    assert "holidays: none → 24 Dec 2026, 25 Dec 2026" in out
    pilot = pilot_row(deps)
    assert (pilot.working_days, pilot.holidays) == (0b1001111, ["2026-12-24", "2026-12-25"])
    # The same again, the days written another way: nothing changed.
    code, out, _ = run(capsys, *args[:-1], "7,1-4", "--holidays", "2026-12-24,2026-12-25")
    assert code == 0 and "nothing changed" in out
    # --holidays replaces the list; other settings stay as they are.
    code, out, _ = run(capsys, "pilot", "update", PILOT, "--holidays", "2027-01-01")
    assert "holidays: 24 Dec 2026, 25 Dec 2026 → 1 Jan 2027" in out
    assert "working days" not in out
    assert pilot_row(deps).holidays == ["2027-01-01"]
    code, out, _ = run(capsys, "pilot", "list", "--format", "json")
    [listed] = json.loads(out)
    assert (listed["working_days"], listed["holidays"]) == ("Sun–Thu", ["2027-01-01"])
    # `none` clears them.
    code, out, _ = run(capsys, "pilot", "update", PILOT, "--holidays", "none")
    assert code == 0 and "holidays: 1 Jan 2027 → none" in out
    assert pilot_row(deps).holidays is None
    code, out, _ = run(capsys, "pilot", "update", PILOT, "--holidays", "none")
    assert "nothing changed" in out


def test_members_and_champions_come_and_go_and_answers_stay(
    env: dict, deps: Deps, slack: SlackStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    make_pilot(deps)
    send(deps)  # this week's pulse reached all six
    slack.add_user("U0NEWBIE", real_name="Nova Newbie", display_name="Nova")
    code, out, err = run(
        capsys,
        "pilot",
        "update",
        PILOT,
        "--add-members",
        "U0NEWBIE",
        "--remove-members",
        "U0PERSON6",
        "--add-champions",
        "U0PERSON1",
        "--remove-champions",
        "U0CHAMPION",
    )
    assert code == 0, err
    assert "members: +1 (U0NEWBIE)" in out and "members: −1 (U0PERSON6)" in out
    assert "champion: +U0PERSON1" in out and "champion: −U0CHAMPION" in out
    assert "welcomed 1 new member" in out
    [welcome] = slack.messages[dm_channel("U0NEWBIE")]
    assert "Nova" in welcome["text"] or "Nova" in json.dumps(welcome["blocks"])
    assert "never attached" in json.dumps(welcome["blocks"])
    rows = people(deps)
    assert rows["U0PERSON6"].left_at is not None  # left: no more rounds
    assert rows["U0PERSON1"].role == Role.CHAMPION and rows["U0PERSON1"].surveyed
    assert rows["U0CHAMPION"].left_at is not None  # was there only as a champion
    assert active(deps) == {*PEOPLE[:5], "U0NEWBIE"}
    # The one who left keeps their place in this week's round (and its totals).
    with deps.db.session() as session:
        sent_to = session.exec(
            select(Delivery.participant_id).where(Delivery.status == DeliveryStatus.SENT)
        ).all()
    assert rows["U0PERSON6"].id in sent_to
    code, out, _ = run(capsys, "pilot", "update", PILOT, "--add-members", "U0NEWBIE")
    assert "nothing changed" in out


def test_a_pilot_follows_its_channel_by_events_and_by_reconciliation(
    deps: Deps, app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    make_pilot(deps)  # from C0TEAM: it follows the channel
    slack.add_user("U0JOINER", real_name="Jo Joiner", display_name="Jo")
    response = sender.event(slack.join_channel("U0JOINER", "C0TEAM"))
    assert response.status_code == 200
    deadline = time.monotonic() + 10
    while "U0JOINER" not in active(deps) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "U0JOINER" in active(deps)
    slack.wait_for("chat.postMessage")
    assert dm_channel("U0JOINER") in slack.messages
    assert sender.event(slack.leave_channel("U0PERSON2", "C0TEAM")).status_code == 200
    assert "U0PERSON2" not in active(deps)
    # Missed events: someone joined and someone left while the app was down; one account was
    # deactivated. The daily reconciliation catches all three.
    slack.add_user("U0QUIET", real_name="Quentin Quiet")
    slack.channels["C0TEAM"]["members"].append("U0QUIET")
    slack.channels["C0TEAM"]["members"].remove("U0PERSON3")
    slack.users["U0PERSON4"]["deleted"] = True
    Clock(deps).tick()
    now_in = active(deps)
    assert "U0QUIET" in now_in and "U0PERSON3" not in now_in and "U0PERSON4" not in now_in
    assert {"U0PERSON1", "U0PERSON5", "U0PERSON6", "U0JOINER"} <= now_in


def test_a_user_group_is_a_source_too(
    env: dict, deps: Deps, slack: SlackStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    slack.add_usergroup("S0SUPPORT", handle="support", users=["U0PERSON1", "U0PERSON2"])
    slack.usergroups["S0SUPPORT"]["users"] += ["U0PERSON3", "U0PERSON4", "U0PERSON5"]
    args = ["pilot", "create", PILOT, "--tool", "Copilot", "--leadership-channel", "C0LEADERS"]
    code, out, err = run(capsys, *args, "--members-from-group", "S0SUPPORT")
    assert code == 0, err and "5 members" in out
    slack.usergroups["S0SUPPORT"]["users"].remove("U0PERSON5")
    slack.usergroups["S0SUPPORT"]["users"].append("U0PERSON6")
    Clock(deps).tick()
    assert active(deps) == {"U0PERSON1", "U0PERSON2", "U0PERSON3", "U0PERSON4", "U0PERSON6"}
    code, _, err = run(capsys, "pilot", "update", PILOT, "--members-from-group", "S0NOPE")
    assert code == 1 and "no user group S0NOPE" in err


def test_ending_a_pilot_stops_everything_and_keeps_the_figures(
    env: dict, deps: Deps, slack: SlackStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    make_pilot(deps)
    send(deps)
    code, out, _ = run(capsys, "pilot", "end", PILOT)
    assert code == 0 and "ended pilot 'support-copilot'" in out and "1 open round closed" in out
    code, out, _ = run(capsys, "pilot", "end", PILOT)
    assert code == 0 and "had ended already" in out
    code, out, _ = run(capsys, "pilot", "list", "--format", "json")
    assert json.loads(out)[0]["status"] == "ended"
    code, out, _ = run(capsys, "pilot", "list")
    assert "ended" in out.splitlines()[1]
    slack.clear()
    # No job does anything for it, a week later either.
    clock = Clock(deps)
    pilot = pilot_row(deps)
    next_week = shift(period_of(datetime.now(UTC), pilot.timezone), 1)
    for slot in Slot:
        clock.tick(instant(pilot, slot, next_week) + timedelta(minutes=1))
    assert slack.calls_to("chat.postMessage") == []
    code, _, err = run(capsys, "pulse", "send", PILOT)
    assert code == 1 and "has ended" in err
    code, _, err = run(capsys, "pilot", "update", PILOT, "--tool", "X")
    assert code == 1 and "has ended" in err
    code, out, _ = run(capsys, "report", PILOT)
    assert code == 0 and json.loads(out)["invited"] == 6  # the figures stay


def pulses(slack: SlackStandIn) -> list:
    """Pulse DMs posted (not the digest, which goes to a channel, nor check-ins)."""
    return [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.params["channel"].startswith("U") and "pulse" in c.params.get("text", "")
    ]


def test_a_schedule_change_is_picked_up_by_a_running_clock(
    env: dict,
    deps: Deps,
    slack: SlackStandIn,
    capsys: pytest.CaptureFixture[str],
    travel: time_machine.Coordinates,
) -> None:
    make_pilot(deps)
    clock = Clock(deps)
    pilot = pilot_row(deps)
    week = shift(period_of(datetime.now(UTC), pilot.timezone), 1)
    # Each person gets the pulse at the slot in their own zone: Amsterdam first, New York last.
    zones = ("Europe/Amsterdam", "Europe/London", "America/New_York")
    first = personal_instant(pilot, Slot.PULSE, week, zones[0])
    tick_at(clock, travel, first - timedelta(hours=1))
    code, _, err = run(
        capsys, "pilot", "update", PILOT, "--pulse-day", "thursday", "--pulse-time", "08:45"
    )
    assert code == 0, err
    tick_at(clock, travel, first + timedelta(minutes=5))  # the old slot: nothing now
    assert pulses(slack) == []
    thursdays = [personal_instant(pilot_row(deps), Slot.PULSE, week, zone) for zone in zones]
    assert thursdays[0] == first + timedelta(days=2, hours=-1, minutes=-15)
    tick_at(clock, travel, thursdays[1] + timedelta(minutes=1))
    assert len(pulses(slack)) == 3  # Amsterdam and London
    tick_at(clock, travel, thursdays[2] + timedelta(minutes=1))
    assert len(pulses(slack)) == 6


def test_roles_decide_who_may_do_what(deps: Deps, slack: SlackStandIn) -> None:
    make_pilot(deps)
    with deps.db.transaction() as session:
        pilot = get_pilot(session, PILOT)
        session.add(Participant(pilot_id=pilot.id, slack_user_id="U0BOSS", role=Role.ADMIN))
    with deps.db.session() as session:
        pilot = get_pilot(session, PILOT)
        champion = {a for a in Action if may(session, "U0CHAMPION", a, pilot)}
        admin = {a for a in Action if may(session, "U0BOSS", a, pilot)}
        member = {a for a in Action if may(session, "U0PERSON1", a, pilot)}
        workspace = {a for a in Action if may(session, "U0ROOT", a, pilot, admins={"U0ROOT"})}
    assert champion == {Action.STATUS, Action.NUDGE, Action.EDIT}
    assert admin == set(Action) and workspace == set(Action)
    assert member == set()


def test_a_nudge_for_a_pilot_one_does_not_champion_is_refused(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    make_pilot(app.deps)
    make_pilot(app.deps, "other-pilot")
    with app.deps.db.transaction() as session:
        other = get_pilot(session, "other-pilot")
        for row in session.exec(
            select(Participant).where(
                Participant.pilot_id == other.id, Participant.role != "member"
            )
        ).all():
            session.delete(row)  # the champion of the first pilot is nobody in the second
    send(app.deps, "other-pilot")
    slack.clear()
    # The champion rewrites the nudge button's value to the pilot they do not champion.
    assert sender.action("U0CHAMPION", "status_nudge", "other-pilot").status_code == 200
    [reply] = slack.wait_for("response_url")
    assert "is for a pilot's champions" in reply.params["text"]
    assert slack.calls_to("chat.postMessage") == []


def test_a_pulse_modal_with_someone_elses_delivery_stores_nothing(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    from tests.pulse_helpers import click, last_view, modal_values

    make_pilot(app.deps)
    send(app.deps)
    click(sender, slack, "U0PERSON1", "Daily")
    view = last_view(slack, 1)
    with app.deps.db.session() as session:
        theirs = session.exec(
            select(Delivery.id)
            .join(Participant, Participant.id == Delivery.participant_id)
            .where(Participant.slack_user_id == "U0PERSON2")
        ).one()
    forged = {**view, "private_metadata": json.dumps({"delivery_id": theirs})}
    response = sender.view_submission("U0PERSON1", forged, modal_values(forged, {"useful": "5"}))
    assert response.status_code == 200 and "isn't yours" in response.text
    with app.deps.db.session() as session:
        from storage.models import Answer

        assert session.exec(select(Answer).where(Answer.delivery_id == theirs)).all() == []


def test_picking_a_pilot_one_does_not_champion_shows_nothing(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    make_pilot(app.deps)
    make_pilot(app.deps, "secret-pilot")
    with app.deps.db.transaction() as session:
        secret = get_pilot(session, "secret-pilot")
        for row in session.exec(
            select(Participant).where(
                Participant.pilot_id == secret.id, Participant.role != "member"
            )
        ).all():
            session.delete(row)
    slack.clear()
    sender.action("U0CHAMPION", "status_pick_0", "secret-pilot")
    [reply] = slack.wait_for("response_url")
    assert "is for a pilot's champions" in reply.params["text"]
    assert "secret-pilot" not in json.dumps(reply.params)
