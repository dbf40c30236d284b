"""Each person's own calendar: slots in their zone, working days, holidays, quiet hours and the
reminder's gap, on both sides of every daylight-saving change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.pilots.calendar import (
    WorkCalendar,
    after_working_hours,
    civil_from,
    is_quiet,
    local_slot,
)
from bot.pilots.period import period_of

WEEK = WorkCalendar()

# Each zone's changes in 2027 (the Sunday the clocks move), and one zone that has none.
CHANGES = [
    ("America/New_York", date(2027, 3, 14)),
    ("America/New_York", date(2027, 11, 7)),
    ("Europe/Berlin", date(2027, 3, 28)),
    ("Europe/Berlin", date(2027, 10, 31)),
    ("Australia/Sydney", date(2027, 4, 4)),
    ("Australia/Sydney", date(2027, 10, 3)),
    ("Asia/Kolkata", date(2027, 3, 28)),
]


def _local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


@pytest.mark.parametrize(("zone", "sunday"), CHANGES)
def test_a_slot_stays_at_its_local_time_across_a_daylight_saving_change(
    zone: str, sunday: date
) -> None:
    # The week before the change and the week after: Tuesday 10:00 local in both.
    before = period_of(datetime(sunday.year, sunday.month, sunday.day, 12, tzinfo=UTC), zone)
    after = period_of(
        datetime(sunday.year, sunday.month, sunday.day, 12, tzinfo=UTC) + timedelta(days=2), zone
    )
    assert before != after
    for period in (before, after):
        slot = local_slot(period, 1, 10, 0, zone, WEEK)
        local = _local(slot, zone)
        assert (local.weekday(), local.hour, local.minute) == (1, 10, 0)
    # So the UTC instants are a week apart less (or more) the hour that moved, where one did.
    first = local_slot(before, 1, 10, 0, zone, WEEK)
    second = local_slot(after, 1, 10, 0, zone, WEEK)
    shift = _local(first, zone).utcoffset() - _local(second, zone).utcoffset()
    assert second - first == timedelta(days=7) + shift
    assert (shift == timedelta()) == (zone == "Asia/Kolkata")


@pytest.mark.parametrize(("zone", "sunday"), CHANGES)
def test_quiet_hours_hold_on_the_night_the_clocks_change(zone: str, sunday: date) -> None:
    # Every quarter of an hour from Saturday noon to Monday noon: quiet exactly from 20:00 to
    # 08:00 local on working days, and all of the weekend.
    start = datetime.combine(sunday - timedelta(days=1), datetime.min.time(), ZoneInfo(zone))
    moment = (start + timedelta(hours=12)).astimezone(UTC)
    while moment < (start + timedelta(days=2, hours=12)).astimezone(UTC):
        local = _local(moment, zone)
        expected = local.weekday() >= 5 or not (8 <= local.hour < 20)
        assert is_quiet(moment, zone, WEEK) == expected, local
        moment += timedelta(minutes=15)
    # From any of those moments the first civil one is Monday 08:00 local, an exact instant.
    monday = civil_from((start + timedelta(hours=23)).astimezone(UTC), zone, WEEK)
    assert _local(monday, zone).replace(tzinfo=None) == datetime.combine(
        sunday + timedelta(days=1), datetime.min.time()
    ) + timedelta(hours=8)


def test_a_slot_on_a_day_off_or_a_holiday_moves_to_the_next_working_day() -> None:
    zone = "Europe/London"
    # 2026-W52: Thursday 24 and Friday 25 December are holidays; a Thursday pulse moves past
    # them and the weekend to Monday 28 December, at the same time.
    holidays = WorkCalendar.of(None, ["2026-12-24", "2026-12-25"])
    slot = local_slot("2026-W52", 3, 10, 30, zone, holidays)
    assert _local(slot, zone).replace(tzinfo=None) == datetime(2026, 12, 28, 10, 30)
    # Without holidays it is that Thursday.
    assert _local(local_slot("2026-W52", 3, 10, 30, zone, WEEK), zone).day == 24
    # A Sunday-to-Thursday week: a Friday slot moves to Sunday.
    sun_thu = WorkCalendar(0b1001111)
    friday = _local(local_slot("2026-W49", 4, 9, 0, zone, sun_thu), zone)
    assert (friday.weekday(), friday.hour) == (6, 9)


def test_a_slot_in_the_quiet_hours_moves_to_the_next_working_morning() -> None:
    zone = "America/Los_Angeles"
    late = _local(local_slot("2026-W49", 1, 21, 0, zone, WEEK), zone)
    assert (late.weekday(), late.hour, late.minute) == (2, 8, 0)
    early = _local(local_slot("2026-W49", 1, 6, 30, zone, WEEK), zone)
    assert (early.weekday(), early.hour, early.minute) == (1, 8, 0)
    # Friday evening goes to Monday morning.
    friday = _local(local_slot("2026-W49", 4, 20, 0, zone, WEEK), zone)
    assert (friday.weekday(), friday.hour) == (0, 8)


def test_one_slot_reaches_each_zone_at_its_own_ten_oclock() -> None:
    zones = ["Australia/Sydney", "Asia/Kolkata", "Europe/London", "America/Los_Angeles"]
    slots = [local_slot("2026-W49", 1, 10, 0, zone, WEEK) for zone in zones]
    assert [
        (_local(s, z).weekday(), _local(s, z).hour) for s, z in zip(slots, zones, strict=True)
    ] == [(1, 10)] * 4
    # East comes first: Sydney's Tuesday 10:00 is Monday 23:00 UTC.
    assert slots == sorted(slots)
    assert slots[0] == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert slots[-1] == datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


def test_the_reminder_gap_counts_working_hours_only() -> None:
    zone = "Europe/Berlin"
    friday = datetime(2026, 12, 4, 10, 0, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    # Friday 10:00 has 14 hours left that day; the weekend does not count; 6 more on Monday.
    due = _local(after_working_hours(friday, 20, zone, WEEK), zone)
    assert due.replace(tzinfo=None) == datetime(2026, 12, 7, 6, 0)
    # Tuesday 10:00 + 20 hours is Wednesday 06:00.
    tuesday = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    assert _local(after_working_hours(tuesday, 20, zone, WEEK), zone).replace(
        tzinfo=None
    ) == datetime(2026, 12, 2, 6, 0)
    # A holiday on Monday pushes it to Tuesday.
    holiday = WorkCalendar.of(None, ["2026-12-07"])
    assert _local(after_working_hours(friday, 20, zone, holiday), zone).day == 8


def test_the_reminder_gap_is_twenty_real_hours_across_the_autumn_change() -> None:
    # Berlin's clocks go back on Sunday 31 October 2027; the gap runs Friday to Monday, and
    # Sunday is not a working day, so its 25 hours do not count either way.
    zone = "Europe/Berlin"
    friday = datetime(2027, 10, 29, 15, 0, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    due = after_working_hours(friday, 20, zone, WEEK)
    assert _local(due, zone).replace(tzinfo=None) == datetime(2027, 11, 1, 11, 0)
    # A calendar working every day counts Sunday's 25 hours as they are.
    every_day = WorkCalendar(0b1111111)
    assert after_working_hours(friday, 60, zone, every_day) - friday == timedelta(hours=60)
