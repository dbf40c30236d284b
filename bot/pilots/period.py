"""Periods: ISO weeks (`2026-W48`) in a pilot's time zone, the key of every scheduled thing."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_PERIOD = re.compile(r"^(\d{4})-W(\d{2})$")


class PeriodError(ValueError):
    """A period or time zone that cannot be used; `str()` is one line for the operator."""


def zone(name: str) -> ZoneInfo:
    """The time zone called `name` (an IANA name such as Europe/Berlin)."""
    try:
        return ZoneInfo(name)
    # OSError: a name too long to be a file of the zone database.
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise PeriodError(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin"
        ) from None


def period_of(moment: datetime, timezone: str) -> str:
    """The ISO week that `moment` (timezone-aware) falls in, as seen in `timezone`."""
    local = moment.astimezone(zone(timezone))
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def parse_period(period: str) -> tuple[int, int]:
    """(ISO year, ISO week) of a period string, or PeriodError saying what is expected."""
    match = _PERIOD.match(period.strip())
    if not match:
        raise PeriodError(f"expected a period such as 2026-W48, got {period!r}")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        raise PeriodError(f"{year} has no ISO week {week}") from None
    return year, week


def period_bounds(period: str, timezone: str) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of the period in `timezone`."""
    year, week = parse_period(period)
    monday = date.fromisocalendar(year, week, 1)
    tz = zone(timezone)
    start = datetime.combine(monday, time(0), tzinfo=tz)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def shift(period: str, weeks: int) -> str:
    """The period `weeks` weeks after (or before, when negative) `period`."""
    year, week = parse_period(period)
    monday = date.fromisocalendar(year, week, 1) + timedelta(weeks=weeks)
    iso_year, iso_week, _ = monday.isocalendar()
    return f"{iso_year}-W{iso_week:02d}"


def previous(period: str) -> str:
    return shift(period, -1)


def slot_in_period(
    period: str, timezone: str, weekday: int, hour: int, minute: int = 0
) -> datetime:
    """The UTC instant of `weekday` (0 = Monday) at `hour`:`minute` local time within the
    period."""
    year, week = parse_period(period)
    day = date.fromisocalendar(year, week, weekday + 1)
    return datetime.combine(day, time(hour, minute), tzinfo=zone(timezone)).astimezone(UTC)


def local_day(moment: datetime, timezone: str | None) -> str:
    """`moment` as a short day in `timezone` (UTC when unknown), e.g. "Wed 9 Dec"."""
    try:
        local = moment.astimezone(zone(timezone)) if timezone else moment
    except PeriodError:
        local = moment
    return day_label(local)


def day_label(moment: datetime) -> str:
    """A short day as shown to people, e.g. "Wed 9 Dec", in `moment`'s own zone."""
    return f"{moment:%a} {moment.day} {moment:%b}"
