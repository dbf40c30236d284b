"""Each person's own morning, with the clock driven through simulated days: local slots across
daylight-saving changes, working days and holidays, quiet hours, the reminder's gap, a clock
that was down, and everyone who could send at once."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import select

from bot.devkit.slack_requests import SlackSender
from bot.devkit.slack_standin import SlackStandIn
from bot.outreach.sending import send_pulse
from bot.pilots.calendar import WorkCalendar, is_quiet
from bot.pilots.pilot import PilotSpec, create_pilot
from bot.pilots.schedule import Slot, When
from bot.runtime.clock import Clock
from bot.runtime.deps import Deps
from bot.runtime.jobs import JOBS
from storage.models import Delivery, Participant, Purpose, Round, RoundKind
from tests.conftest import RunningApp

PILOT = "world"
ZONES = {
    "U0NEWYORK": "America/New_York",
    "U0BERLIN": "Europe/Berlin",
    "U0SYDNEY": "Australia/Sydney",
    "U0KOLKATA": "Asia/Kolkata",
    "U0LONDON": "Europe/London",
}
# The jobs that message people; the daily bookkeeping (names, kept weeks, retention) has
# tests of its own and only slows a simulated fortnight down.
MESSAGING = tuple(
    job
    for job in JOBS
    if job.name in {"pulse", "reminder", "check-in", "welcomes", "check-in expiry"}
)


def _world(
    deps: Deps,
    slack: SlackStandIn,
    *,
    schedule: tuple[tuple[Slot, When], ...] = (),
    working_days: int = 0b0011111,
    holidays: tuple[str, ...] = (),
    zones: dict[str, str] = ZONES,
) -> None:
    """A pilot in London whose people live in `zones`, with a minimum group of 3."""
    for user, zone in zones.items():
        slack.add_user(user, real_name=f"Person {user[3:].title()}", tz=zone)
    slack.add_channel("C0WORLD", name="world", members=list(zones))
    create_pilot(
        deps.db,
        deps.client,
        PilotSpec(
            name=PILOT,
            tool="Copilot",
            leadership_channel="C0LEADERS",
            members_from_channel="C0WORLD",
            timezone="Europe/London",
            min_group_size=3,
            schedule=schedule,
            working_days=working_days,
            holidays=holidays,
        ),
    )


def _run(
    deps: Deps,
    travel: time_machine.Coordinates,
    start: datetime,
    end: datetime,
    step: timedelta = timedelta(minutes=30),
) -> None:
    """Tick the clock every `step` from `start` to `end`, the whole app living in that time."""
    clock = Clock(deps, MESSAGING)
    moment = start
    while moment <= end:
        travel.move_to(moment)
        clock.tick()
        moment += step


def _sent(deps: Deps, purpose: str, kind: RoundKind = RoundKind.PULSE) -> dict[str, list[datetime]]:
    """When each person's messages of `purpose` (of rounds of `kind`) were sent."""
    with deps.db.session() as session:
        rows = session.exec(
            select(Participant.slack_user_id, Delivery.sent_at)
            .join(Participant, Participant.id == Delivery.participant_id)
            .join(Round, Round.id == Delivery.round_id)
            .where(Delivery.purpose == purpose, Round.kind == kind, Delivery.sent_at.is_not(None))
        ).all()
    sent: dict[str, list[datetime]] = {}
    for user, at in rows:
        sent.setdefault(user, []).append(at)
    return sent


def _local(moment: datetime, user: str) -> datetime:
    return moment.astimezone(ZoneInfo(ZONES[user]))


def _minute(moment: datetime, user: str) -> datetime:
    """The local wall-clock minute at which something was sent (the clock runs on with real
    time, so a send is some milliseconds after its tick)."""
    return _local(moment, user).replace(second=0, microsecond=0, tzinfo=None)


def _dm_times(slack: SlackStandIn, deps: Deps) -> None:
    """No DM went out in anyone's quiet hours (checked on the deliveries' send times)."""
    week = WorkCalendar()
    for purpose in (Purpose.INVITE, Purpose.REMINDER):
        for kind in (RoundKind.PULSE, RoundKind.CHECKIN):
            for user, times in _sent(deps, purpose, kind).items():
                for at in times:
                    assert not is_quiet(at, ZONES[user], week), (user, _local(at, user))


# The Sunday each zone's clocks change in 2027 (Kolkata has no such day: it rides along).
CHANGES = [
    pytest.param(date(2027, 3, 14), id="new-york-spring"),
    pytest.param(date(2027, 11, 7), id="new-york-autumn"),
    pytest.param(date(2027, 3, 28), id="berlin-spring"),
    pytest.param(date(2027, 10, 31), id="berlin-autumn"),
    pytest.param(date(2027, 4, 4), id="sydney-autumn"),
    pytest.param(date(2027, 10, 3), id="sydney-spring"),
]


@pytest.mark.parametrize("sunday", CHANGES)
def test_nobody_is_messaged_early_late_twice_or_never_across_a_clock_change(
    sunday: date, deps: Deps, slack: SlackStandIn, travel: time_machine.Coordinates
) -> None:
    # The pulse on the Monday after the change at 09:00, the check-in that afternoon, the
    # reminder on Tuesday: each person's own 09:00, 14:00 and 09:00. The pilot is made on the
    # Friday before, after that week's slots.
    friday = datetime.combine(sunday - timedelta(days=2), time(12), UTC)
    travel.move_to(friday)
    _world(
        deps,
        slack,
        schedule=(
            (Slot.PULSE, When(0, 9, 0)),
            (Slot.CHECKIN, When(0, 14, 0)),
            (Slot.REMINDER, When(1, 9, 0)),
        ),
    )
    _run(deps, travel, friday, friday + timedelta(days=5))
    pulses, reminders = _sent(deps, Purpose.INVITE), _sent(deps, Purpose.REMINDER)
    checkins = _sent(deps, Purpose.INVITE, RoundKind.CHECKIN)
    monday, tuesday = sunday + timedelta(days=1), sunday + timedelta(days=2)
    for user in ZONES:
        # Exactly one of each, at the person's own time on the right day, on the dot (the
        # clock ticks every half hour, and every zone here is on the hour or half past).
        [pulse], [checkin], [reminder] = pulses[user], checkins[user], reminders[user]
        assert _minute(pulse, user) == datetime.combine(monday, time(9))
        assert _minute(checkin, user) == datetime.combine(monday, time(14))
        assert _minute(reminder, user) == datetime.combine(tuesday, time(9))
    _dm_times(slack, deps)
    with deps.db.session() as session:
        assert len(session.exec(select(Round)).all()) == 2  # one pulse, one check-in


def _sends(slack: SlackStandIn, user: str) -> int:
    return len(slack.messages.get("D" + user[1:], []))


def test_a_slot_on_a_holiday_or_a_day_off_moves_to_the_next_working_day(
    deps: Deps, slack: SlackStandIn, travel: time_machine.Coordinates
) -> None:
    # Pulses on Thursdays at 10:00; 24 and 25 December 2026 are holidays, and Friday is no
    # working day in Berlin… for this pilot, which works Sunday to Thursday.
    zones = {
        "U0LONDON": "Europe/London",
        "U0BERLIN": "Europe/Berlin",
        "U0NEWYORK": "America/New_York",
    }
    _world(
        deps,
        slack,
        schedule=((Slot.PULSE, When(3, 10, 0)), (Slot.REMINDER, When(4, 10, 0))),
        working_days=0b1001111,  # Sun–Thu
        holidays=("2026-12-24", "2026-12-25"),
        zones=zones,
    )
    start = datetime(2026, 12, 23, 12, tzinfo=UTC)
    _run(deps, travel, start, start + timedelta(days=6), timedelta(minutes=30))
    pulses = _sent(deps, Purpose.INVITE)
    for user in zones:
        [pulse] = pulses[user]
        # Thursday 24 is a holiday, Friday 25 too (and no working day), Saturday is off:
        # Sunday 27 December at 10:00 in each person's zone.
        assert _minute(pulse, user) == datetime(2026, 12, 27, 10, 0)
    # The reminder's slot (Friday) moves to Sunday too, but must keep 20 working hours after
    # the pulse: Monday 06:00, which is quiet, so Monday 08:00.
    for user, [reminder] in _sent(deps, Purpose.REMINDER).items():
        assert _minute(reminder, user) == datetime(2026, 12, 28, 8, 0)
    with deps.db.session() as session:
        rounds = session.exec(select(Round).where(Round.kind == RoundKind.PULSE)).all()
    assert [r.period for r in rounds] == ["2026-W52"]


def test_a_slot_in_the_quiet_hours_waits_for_the_morning(
    deps: Deps, slack: SlackStandIn, travel: time_machine.Coordinates
) -> None:
    _world(deps, slack, schedule=((Slot.PULSE, When(1, 21, 30)),))
    start = datetime(2026, 12, 7, 0, tzinfo=UTC)
    _run(deps, travel, start, start + timedelta(days=3))
    for user, [pulse] in _sent(deps, Purpose.INVITE).items():
        local = _local(pulse, user)
        assert (local.weekday(), local.hour, local.minute) == (2, 8, 0), user
    _dm_times(slack, deps)


def test_a_pulse_sent_by_hand_at_night_reaches_each_person_in_their_morning(
    deps: Deps, slack: SlackStandIn, travel: time_machine.Coordinates
) -> None:
    _world(deps, slack)
    # Tuesday 8 December 2026, 21:00 UTC: evening in London and Berlin, night in Kolkata,
    # Wednesday morning in Sydney, afternoon in New York.
    night = datetime(2026, 12, 8, 21, 0, tzinfo=UTC)
    travel.move_to(night)
    result = send_pulse(
        deps.db, deps.sending_client, PILOT, now=deps.clock(), options=deps.send_options
    )
    assert result.progress is not None
    assert (result.progress.sent, result.progress.waiting) == (2, 3)
    assert [u for u in ZONES if _sends(slack, u)] == ["U0NEWYORK", "U0SYDNEY"]
    _run(deps, travel, night, night + timedelta(days=1))
    for user, [pulse] in _sent(deps, Purpose.INVITE).items():
        local = _local(pulse, user)
        if user in ("U0NEWYORK", "U0SYDNEY"):
            assert pulse - night < timedelta(minutes=1)
        else:
            assert local.hour == 8 and local.minute == 0 and local.date() == date(2026, 12, 9)
    # A second send by hand changes nothing and says how many are still to go: none.
    again = send_pulse(
        deps.db, deps.sending_client, PILOT, now=deps.clock(), options=deps.send_options
    )
    assert again.progress is None and "nothing new" in again.note


def test_a_welcome_at_night_waits_for_the_morning(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn, travel: time_machine.Coordinates
) -> None:
    deps = app.deps
    _world(deps, slack, zones={u: z for u, z in ZONES.items() if u != "U0SYDNEY"})
    slack.add_user("U0SYDNEY", real_name="Person Sydney", tz="Australia/Sydney")
    # Monday 7 December 2026 14:00 UTC: 01:00 on Tuesday in Sydney.
    travel.move_to(datetime(2026, 12, 7, 14, 0, tzinfo=UTC))
    assert sender.event(slack.join_channel("U0SYDNEY", "C0WORLD")).status_code == 200
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while datetime.now(UTC) < deadline:
        with deps.db.session() as session:
            person = session.exec(
                select(Participant).where(Participant.slack_user_id == "U0SYDNEY")
            ).first()
        if person is not None and person.welcome_due_at is not None:
            break
    assert person is not None and person.welcome_due_at is not None
    assert _sends(slack, "U0SYDNEY") == 0
    local = person.welcome_due_at.astimezone(ZoneInfo("Australia/Sydney"))
    assert (local.hour, local.minute, local.weekday()) == (8, 0, 1)
    _run(
        deps,
        travel,
        datetime(2026, 12, 7, 14, 30, tzinfo=UTC),
        datetime(2026, 12, 7, 22, 0, tzinfo=UTC),
    )
    assert _sends(slack, "U0SYDNEY") == 1
    assert "welcome" in slack.messages["D0SYDNEY"][0]["text"].lower()


def test_a_clock_that_was_down_sends_the_mornings_messages_and_this_weeks_once(
    deps: Deps, slack: SlackStandIn, travel: time_machine.Coordinates
) -> None:
    zones = {
        "U0LONDON": "Europe/London",
        "U0BERLIN": "Europe/Berlin",
        "U0NEWYORK": "America/New_York",
    }
    _world(deps, slack, zones=zones)
    clock = Clock(deps, MESSAGING)
    # Tuesday 8 December 2026: the slot is 10:00 local; the clock was down until 11:00 London.
    travel.move_to(datetime(2026, 12, 8, 11, 0, tzinfo=UTC))
    clock.tick()
    sent = _sent(deps, Purpose.INVITE)
    assert set(sent) == {"U0LONDON", "U0BERLIN"}  # New York's 10:00 is still to come
    # Down again from then for over a week: on its first tick back, only this week's round
    # opens (last week's is not sent late), and once, however many ticks follow.
    travel.move_to(datetime(2026, 12, 16, 12, 0, tzinfo=UTC))
    for _ in range(3):
        clock.tick()
    with deps.db.session() as session:
        periods = sorted(r.period for r in session.exec(select(Round)).all())
    assert periods == ["2026-W50", "2026-W51"]
    sent = _sent(deps, Purpose.INVITE)
    assert {user: len(times) for user, times in sent.items()} == {"U0LONDON": 2, "U0BERLIN": 2}
    assert max(sent["U0LONDON"]) - datetime(2026, 12, 16, 12, 0, tzinfo=UTC) < timedelta(minutes=1)
    # New York's pulse of last week never went (its round closed while the clock was down),
    # and this week's waits for 08:00 there (it is 07:00 now).
    with deps.db.session() as session:
        lapsed = session.exec(
            select(Delivery.failure_reason)
            .join(Participant, Participant.id == Delivery.participant_id)
            .where(Participant.slack_user_id == "U0NEWYORK", Delivery.sent_at.is_(None))
        ).all()
    assert sorted(lapsed, key=str) == sorted(["round closed", None], key=str)
    travel.move_to(datetime(2026, 12, 16, 13, 0, tzinfo=UTC))
    clock.tick()
    [pulse] = _sent(deps, Purpose.INVITE)["U0NEWYORK"]
    assert _minute(pulse, "U0NEWYORK") == datetime(2026, 12, 16, 8, 0)


def test_two_clocks_a_restart_and_a_cli_run_deliver_nothing_twice(
    deps: Deps, slack: SlackStandIn, travel: time_machine.Coordinates
) -> None:
    _world(deps, slack)
    slack.latency = 0.01
    start = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
    end = start + timedelta(days=6)
    errors: list[BaseException] = []

    def clock_run(offset: timedelta) -> None:
        # Each clock ticks through the week; one is replaced by a new one half way (a restart).
        try:
            clock = Clock(deps, MESSAGING)
            moment = start + offset
            while moment <= end:
                if moment >= start + timedelta(days=3) and offset:
                    clock = Clock(deps, MESSAGING)
                    offset = timedelta()
                clock.tick(moment)
                moment += timedelta(minutes=30)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def cli_run() -> None:
        try:
            send_pulse(
                deps.db,
                deps.sending_client,
                PILOT,
                now=datetime(2026, 12, 8, 16, 0, tzinfo=UTC),
                options=deps.send_options,
            )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    travel.move_to(datetime(2026, 12, 8, 16, 0, tzinfo=UTC))
    threads = [
        threading.Thread(target=clock_run, args=(timedelta(),)),
        threading.Thread(target=clock_run, args=(timedelta(minutes=1),)),
        threading.Thread(target=cli_run),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    pulses = _sent(deps, Purpose.INVITE)
    assert {user: len(times) for user, times in pulses.items()} == {user: 1 for user in ZONES}
    assert {user: len(times) for user, times in _sent(deps, Purpose.REMINDER).items()} == {
        user: 1 for user in ZONES
    }
    checkins = _sent(deps, Purpose.INVITE, RoundKind.CHECKIN)
    assert {user: len(times) for user, times in checkins.items()} == {user: 1 for user in ZONES}
    # And Slack got exactly those messages: one pulse, one reminder, one check-in each.
    assert [_sends(slack, user) for user in ZONES] == [3] * len(ZONES)


def test_someone_who_moves_gets_the_next_round_in_their_new_morning(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn, travel: time_machine.Coordinates
) -> None:
    deps = app.deps
    zones = {
        "U0LONDON": "Europe/London",
        "U0BERLIN": "Europe/Berlin",
        "U0NEWYORK": "America/New_York",
    }
    _world(deps, slack, zones=zones)
    # Slack tells us London moved to Tokyo.
    slack.users["U0LONDON"]["tz"] = "Asia/Tokyo"
    response = sender.event({"type": "user_change", "user": slack.users["U0LONDON"]})
    assert response.status_code == 200
    with deps.db.session() as session:
        tz = session.exec(
            select(Participant.slack_tz).where(Participant.slack_user_id == "U0LONDON")
        ).one()
    assert tz == "Asia/Tokyo"
    start = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    _run(deps, travel, start, start + timedelta(days=2))
    [pulse] = _sent(deps, Purpose.INVITE)["U0LONDON"]
    local = pulse.astimezone(ZoneInfo("Asia/Tokyo"))
    assert (local.weekday(), local.hour) == (1, 10)
