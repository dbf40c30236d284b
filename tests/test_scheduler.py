"""The clock: pulses and reminders go out at each person's own slot, once, however often it
ticks. The test workspace's people live in Amsterdam, London and New York (the pilot's zone)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import time_machine
from sqlmodel import select

from bot.devkit.slack_requests import SlackSender
from bot.devkit.slack_standin import SlackStandIn
from bot.pilots import period as periods
from bot.pilots.schedule import Slot, personal_instant
from bot.runtime.clock import Clock
from bot.runtime.deps import Deps
from storage.models import Delivery, Pilot, Purpose, Round
from tests.conftest import RunningApp
from tests.pulse_helpers import PEOPLE, click, dm_channel, make_pilot, store_reply, tick_at

# The people of the test workspace by zone, earliest morning first.
AMSTERDAM = ["U0PERSON5"]
LONDON = ["U0PERSON1", "U0PERSON3"]
NEW_YORK = ["U0PERSON2", "U0PERSON4", "U0PERSON6"]
ZONES = {"Europe/Amsterdam": AMSTERDAM, "Europe/London": LONDON, "America/New_York": NEW_YORK}


def _pilot(deps: Deps) -> Pilot:
    with deps.db.session() as session:
        return session.exec(select(Pilot)).one()


def _next_week() -> str:
    return periods.shift(periods.period_of(datetime.now(UTC), "America/New_York"), 1)


def _slots(deps: Deps, slot: Slot, period: str) -> dict[str, datetime]:
    """`slot` of `period` in each zone of the workspace."""
    pilot = _pilot(deps)
    return {zone: personal_instant(pilot, slot, period, zone) for zone in ZONES}


def _pulse_messages(slack: SlackStandIn, user: str) -> int:
    """Pulse DMs (and reminders) the person got, told apart by the pulse's buttons."""
    return sum(
        1
        for message in slack.messages.get(dm_channel(user), [])
        if any(
            b.get("block_id") in ("pulse_first", "pulse_progress", "pulse_done")
            for b in message.get("blocks") or []
        )
    )


def _got(slack: SlackStandIn) -> set[str]:
    """Who has had any DM."""
    return {p for p in PEOPLE if slack.messages.get(dm_channel(p))}


def _dms(slack: SlackStandIn) -> int:
    return sum(len(slack.messages.get(dm_channel(p), [])) for p in PEOPLE)


def test_the_pulse_reaches_each_person_at_their_own_slot_once(
    deps: Deps, slack: SlackStandIn, travel: time_machine.Coordinates
) -> None:
    make_pilot(deps)
    week = _next_week()
    slots = _slots(deps, Slot.PULSE, week)
    clock = Clock(deps)
    tick_at(clock, travel, slots["Europe/Amsterdam"] - timedelta(minutes=1))
    assert _dms(slack) == 0
    # Tuesday 10:00 comes to Amsterdam first, then London an hour later, New York five after.
    tick_at(clock, travel, slots["Europe/Amsterdam"] + timedelta(minutes=1))
    assert _got(slack) == set(AMSTERDAM)
    tick_at(clock, travel, slots["Europe/London"] - timedelta(minutes=1))
    assert _got(slack) == set(AMSTERDAM)
    tick_at(clock, travel, slots["Europe/London"] + timedelta(minutes=1))
    assert _got(slack) == set(AMSTERDAM + LONDON)
    tick_at(clock, travel, slots["America/New_York"] + timedelta(minutes=1))
    assert _got(slack) == set(PEOPLE)
    # Later ticks of the same period, and a restarted clock, send nothing more.
    tick_at(clock, travel, slots["America/New_York"] + timedelta(hours=5))
    tick_at(Clock(deps), travel, slots["America/New_York"] + timedelta(hours=6))
    assert _dms(slack) == 6
    with deps.db.session() as session:
        [round_] = session.exec(select(Round)).all()
        deliveries = session.exec(select(Delivery)).all()
    # One round, in the pilot's period, opened when the slot came in the earliest zone.
    assert round_.period == week
    assert abs(round_.opened_at - slots["Europe/Amsterdam"]) < timedelta(minutes=2)
    assert sorted({d.due_at for d in deliveries}) == sorted(slots.values())
    # Each sent within the minute after its person's 10:00.
    assert all(timedelta() <= d.sent_at - d.due_at < timedelta(minutes=2) for d in deliveries)


def test_two_clocks_ticking_together_send_each_dm_once(
    deps: Deps, slack: SlackStandIn, travel: time_machine.Coordinates
) -> None:
    make_pilot(deps)
    travel.move_to(_slots(deps, Slot.PULSE, _next_week())["America/New_York"])
    slack.latency = 0.02
    clocks = [threading.Thread(target=Clock(deps).tick) for _ in range(2)]
    for clock in clocks:
        clock.start()
    for clock in clocks:
        clock.join(timeout=60)
    assert [len(slack.messages[dm_channel(p)]) for p in PEOPLE] == [1] * 6


def test_a_pilot_created_after_this_weeks_slot_waits_for_next_week(
    deps: Deps, slack: SlackStandIn, travel: time_machine.Coordinates
) -> None:
    make_pilot(deps)
    week = _next_week()
    slots = _slots(deps, Slot.PULSE, week)
    pilot = _pilot(deps)
    with deps.db.transaction() as session:
        stored = session.get(Pilot, pilot.id)
        # Created after the slot in Amsterdam, before New York's: the week is still skipped.
        stored.created_at = slots["Europe/Amsterdam"] + timedelta(hours=1)
        session.add(stored)
    tick_at(Clock(deps), travel, slots["America/New_York"] + timedelta(hours=2))
    assert _dms(slack) == 0
    following = _slots(deps, Slot.PULSE, periods.shift(week, 1))
    tick_at(Clock(deps), travel, following["America/New_York"] + timedelta(minutes=1))
    assert _dms(slack) == 6


def test_the_reminder_follows_at_its_slot_to_those_who_have_not_answered(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn, travel: time_machine.Coordinates
) -> None:
    deps = app.deps
    make_pilot(deps)
    week = _next_week()
    clock = Clock(deps)
    tick_at(clock, travel, _slots(deps, Slot.PULSE, week)["America/New_York"])
    click(sender, slack, "U0PERSON1", "Daily")
    reminders = _slots(deps, Slot.REMINDER, week)
    tick_at(clock, travel, reminders["Europe/Amsterdam"] - timedelta(hours=1))
    with deps.db.session() as session:
        assert (
            session.exec(select(Delivery).where(Delivery.purpose == Purpose.REMINDER)).all() == []
        )
    # Thursday 10:00 in Amsterdam: the reminder is set up for all, and reaches Amsterdam only.
    tick_at(clock, travel, reminders["Europe/Amsterdam"] + timedelta(minutes=1))
    assert _pulse_messages(slack, "U0PERSON5") == 2
    assert _pulse_messages(slack, "U0PERSON3") == 1
    tick_at(clock, travel, reminders["America/New_York"] + timedelta(minutes=1))
    tick_at(clock, travel, reminders["America/New_York"] + timedelta(hours=3))
    # (Wednesday's check-in went out too; only the pulse messages count here.)
    assert _pulse_messages(slack, "U0PERSON1") == 1
    assert [_pulse_messages(slack, p) for p in PEOPLE[1:]] == [2] * 5


def test_a_round_left_unsent_is_finished_by_the_next_tick(
    deps: Deps, slack: SlackStandIn, travel: time_machine.Coordinates
) -> None:
    from bot.outreach.round import open_round

    make_pilot(deps)
    moment = _slots(deps, Slot.PULSE, _next_week())["America/New_York"] + timedelta(minutes=1)
    travel.move_to(moment)
    # A `pulse send` that died right after opening the round: every delivery still pending.
    open_round(deps.db, _pilot(deps), "pulse", moment, close_after_days=6)
    assert _dms(slack) == 0
    tick_at(Clock(deps), travel, moment + timedelta(minutes=1))
    assert _dms(slack) == 6


def test_the_check_in_goes_out_at_its_slot_and_expires_with_its_round(
    deps: Deps, slack: SlackStandIn, travel: time_machine.Coordinates
) -> None:
    from storage.models import Checkin, CheckinStatus

    make_pilot(deps)
    week = _next_week()
    clock = Clock(deps)
    checkins = _slots(deps, Slot.CHECKIN, week)
    tick_at(clock, travel, _slots(deps, Slot.PULSE, week)["America/New_York"])
    tick_at(clock, travel, checkins["Europe/Amsterdam"] - timedelta(minutes=1))
    assert _dms(slack) == 6
    for zone in ZONES:
        tick_at(clock, travel, checkins[zone] + timedelta(minutes=1))
    tick_at(clock, travel, checkins["America/New_York"] + timedelta(hours=2))
    assert _dms(slack) == 12
    opener = slack.messages[dm_channel("U0PERSON1")][1]
    assert "quick check-in" in opener["text"]
    later = checkins["America/New_York"] + timedelta(hours=3)
    travel.move_to(later)
    reply = store_reply(deps, "U0PERSON1", "fine so far", ts="9.1", now=later)
    assert reply.outcome == "stored"
    tick_at(clock, travel, checkins["America/New_York"] + timedelta(days=7))
    with deps.db.session() as session:
        assert session.exec(select(Checkin)).one().status == CheckinStatus.EXPIRED
