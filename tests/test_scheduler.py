"""The clock: pulses and reminders go out at each pilot's slot, once, however often it ticks."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.devkit.slack_requests import SlackSender
from bot.devkit.slack_standin import SlackStandIn
from bot.pilots import period as periods
from bot.runtime.clock import Clock
from bot.runtime.deps import Deps
from storage.models import Delivery, Pilot, Purpose, Round
from tests.conftest import RunningApp
from tests.pulse_helpers import PEOPLE, click, dm_channel, make_pilot, store_reply


def _pilot(deps: Deps) -> Pilot:
    with deps.db.session() as session:
        return session.exec(select(Pilot)).one()


def _slot(deps: Deps, weeks_ahead: int, weekday: int, hour: int) -> datetime:
    pilot = _pilot(deps)
    period = periods.shift(periods.period_of(datetime.now(UTC), pilot.timezone), weeks_ahead)
    return periods.slot_in_period(period, pilot.timezone, weekday, hour)


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


def _dms(slack: SlackStandIn) -> int:
    return sum(len(slack.messages.get(dm_channel(p), [])) for p in PEOPLE)


def test_the_pulse_goes_out_at_its_slot_once(deps: Deps, slack: SlackStandIn) -> None:
    make_pilot(deps)
    pilot = _pilot(deps)
    slot = _slot(deps, 1, pilot.pulse_weekday, pilot.pulse_hour)
    Clock(deps).tick(slot - timedelta(minutes=1))
    assert _dms(slack) == 0
    Clock(deps).tick(slot + timedelta(minutes=1))
    assert _dms(slack) == 6
    # Later ticks of the same period, and a restarted clock, send nothing more.
    Clock(deps).tick(slot + timedelta(hours=5))
    Clock(deps).tick(slot + timedelta(days=1))
    assert _dms(slack) == 6
    with deps.db.session() as session:
        [round_] = session.exec(select(Round)).all()
    assert round_.period == periods.period_of(slot, pilot.timezone)


def test_two_clocks_ticking_together_send_each_dm_once(deps: Deps, slack: SlackStandIn) -> None:
    make_pilot(deps)
    pilot = _pilot(deps)
    moment = _slot(deps, 1, pilot.pulse_weekday, pilot.pulse_hour) + timedelta(minutes=1)
    slack.latency = 0.02
    clocks = [threading.Thread(target=Clock(deps).tick, args=(moment,)) for _ in range(2)]
    for clock in clocks:
        clock.start()
    for clock in clocks:
        clock.join(timeout=60)
    assert [len(slack.messages[dm_channel(p)]) for p in PEOPLE] == [1] * 6


def test_a_pilot_created_after_this_weeks_slot_waits_for_next_week(
    deps: Deps, slack: SlackStandIn
) -> None:
    make_pilot(deps)
    pilot = _pilot(deps)
    slot = _slot(deps, 1, pilot.pulse_weekday, pilot.pulse_hour)
    with deps.db.transaction() as session:
        stored = session.get(Pilot, pilot.id)
        stored.created_at = slot + timedelta(hours=1)
        session.add(stored)
    Clock(deps).tick(slot + timedelta(hours=2))
    assert _dms(slack) == 0
    Clock(deps).tick(slot + timedelta(days=7, minutes=1))
    assert _dms(slack) == 6


def test_the_reminder_follows_at_its_slot_to_those_who_have_not_answered(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    deps = app.deps
    make_pilot(deps)
    pilot = _pilot(deps)
    pulse_at = _slot(deps, 1, pilot.pulse_weekday, pilot.pulse_hour) + timedelta(minutes=1)
    Clock(deps).tick(pulse_at)
    click(sender, slack, "U0PERSON1", "Daily")
    reminder_at = _slot(deps, 1, pilot.reminder_weekday, pilot.reminder_hour) + timedelta(minutes=1)
    Clock(deps).tick(reminder_at - timedelta(hours=1))
    with deps.db.session() as session:
        assert (
            session.exec(select(Delivery).where(Delivery.purpose == Purpose.REMINDER)).all() == []
        )
    Clock(deps).tick(reminder_at)
    Clock(deps).tick(reminder_at + timedelta(hours=3))
    # (Wednesday's check-in went out too; only the pulse messages count here.)
    assert _pulse_messages(slack, "U0PERSON1") == 1
    assert [_pulse_messages(slack, p) for p in PEOPLE[1:]] == [2] * 5


def test_a_round_left_unsent_is_finished_by_the_next_tick(deps: Deps, slack: SlackStandIn) -> None:
    from bot.outreach.round import open_round

    make_pilot(deps)
    pilot = _pilot(deps)
    moment = _slot(deps, 1, pilot.pulse_weekday, pilot.pulse_hour) + timedelta(minutes=1)
    # A `pulse send` that died right after opening the round: every delivery still pending.
    open_round(deps.db, pilot, "pulse", moment, close_after_days=6)
    assert _dms(slack) == 0
    Clock(deps).tick(moment + timedelta(minutes=1))
    assert _dms(slack) == 6


def test_the_check_in_goes_out_at_its_slot_and_expires_with_its_round(
    deps: Deps, slack: SlackStandIn
) -> None:
    from storage.models import Checkin, CheckinStatus

    make_pilot(deps)
    pilot = _pilot(deps)
    slot = _slot(deps, 1, pilot.checkin_weekday, pilot.checkin_hour)
    pulse_slot = _slot(deps, 1, pilot.pulse_weekday, pilot.pulse_hour)
    Clock(deps).tick(pulse_slot + timedelta(minutes=1))
    Clock(deps).tick(slot - timedelta(minutes=1))
    assert _dms(slack) == 6
    Clock(deps).tick(slot + timedelta(minutes=1))
    Clock(deps).tick(slot + timedelta(hours=2))
    assert _dms(slack) == 12
    opener = slack.messages[dm_channel("U0PERSON1")][1]
    assert "quick check-in" in opener["text"]
    reply = store_reply(deps, "U0PERSON1", "fine so far", ts="9.1", now=slot + timedelta(hours=3))
    assert reply.outcome == "stored"
    Clock(deps).tick(slot + timedelta(days=7))
    with deps.db.session() as session:
        assert session.exec(select(Checkin)).one().status == CheckinStatus.EXPIRED
