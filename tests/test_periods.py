"""Periods are ISO weeks in the pilot's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.pilots import period as periods


def test_period_follows_the_pilots_time_zone() -> None:
    # Sunday 23:30 UTC is already Monday of the next ISO week in Berlin.
    moment = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)
    assert periods.period_of(moment, "UTC") == "2026-W48"
    assert periods.period_of(moment, "Europe/Berlin") == "2026-W49"
    assert periods.period_of(moment, "America/Los_Angeles") == "2026-W48"


def test_year_boundary_uses_iso_years() -> None:
    assert periods.period_of(datetime(2027, 1, 1, 12, tzinfo=UTC), "UTC") == "2026-W53"
    assert periods.shift("2026-W53", 1) == "2027-W01"
    assert periods.previous("2027-W01") == "2026-W53"


def test_bounds_and_slots_are_utc_instants_of_local_times() -> None:
    start, end = periods.period_bounds("2026-W48", "Europe/Berlin")
    assert start == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    slot = periods.slot_in_period("2026-W48", "Europe/Berlin", weekday=1, hour=10)
    assert slot == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["2026-48", "2026-W54", "W48", "2025-W53"])
def test_bad_periods_are_refused(bad: str) -> None:
    with pytest.raises(periods.PeriodError):
        periods.parse_period(bad)


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(periods.PeriodError, match="unknown time zone"):
        periods.zone("Mars/Olympus_Mons")
