"""Each person's own calendar: when a bot DM may reach them.

A pilot's slots (the pulse on Tuesday at 10:00, say) are read in each person's own time zone, so
that Sydney and Los Angeles both get theirs at 10:00 local. A slot that falls on a day the
pilot does not work (by default Saturday and Sunday) or on one of its holidays moves to the next
working day, at the same time; and nobody gets a DM in the quiet hours, 20:00 to 08:00 local,
nor on a non-working day, whatever sends it.

Everything here works on dates and wall-clock times in one zone with `zoneinfo`, and only then
turns them into UTC instants, so a daylight-saving change moves nobody's morning: 10:00 stays
10:00 on the Monday after the clocks change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.errors import PulseError
from bot.pilots.period import parse_period, zone

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Monday to Friday, bit i for weekday i (0 = Monday).
WEEKDAYS = 0b0011111
# No bot DM reaches anyone from 20:00 until 08:00 in their own zone.
QUIET_FROM = time(20, 0)
QUIET_UNTIL = time(8, 0)
# A reminder comes at least this many working hours after the pulse it reminds of.
REMINDER_GAP_HOURS = 20.0
# A calendar with one working day a week and a year of holidays still has a working day within
# this many days; further than that is a calendar with none (refused when it is set).
_HORIZON_DAYS = 800


@dataclass(frozen=True)
class WorkCalendar:
    """The days a pilot's people work: weekdays (a bit mask) less the holidays (local dates)."""

    working_days: int = WEEKDAYS
    holidays: frozenset[date] = frozenset()

    @classmethod
    def of(cls, working_days: int | None, holidays: Iterable[str] | None) -> WorkCalendar:
        """From a pilot's columns: its weekday mask and its holidays as ISO dates."""
        return cls(
            working_days or WEEKDAYS, frozenset(date.fromisoformat(d) for d in holidays or ())
        )

    def is_working(self, day: date) -> bool:
        return bool(self.working_days >> day.weekday() & 1) and day not in self.holidays

    def next_working(self, day: date) -> date:
        """`day` if people work on it, else the first working day after it."""
        for offset in range(_HORIZON_DAYS):
            candidate = day + timedelta(days=offset)
            if self.is_working(candidate):
                return candidate
        raise PulseError("the pilot has no working day: set --working-days")


def _instant(day: date, at: time, timezone: str) -> datetime:
    """`day` at `at`, local to `timezone`, as a UTC instant (`zoneinfo` resolves the offset of
    that date, so it is right on either side of a daylight-saving change)."""
    return datetime.combine(day, at, tzinfo=zone(timezone)).astimezone(UTC)


def civil_from(moment: datetime, timezone: str, calendar: WorkCalendar) -> datetime:
    """The first instant at or after `moment` at which a DM may reach someone in `timezone`:
    on a working day, outside the quiet hours."""
    local = moment.astimezone(zone(timezone))
    day, at = local.date(), local.time()
    if calendar.is_working(day):
        if at < QUIET_UNTIL:
            return _instant(day, QUIET_UNTIL, timezone)
        if at < QUIET_FROM:
            return moment
    return _instant(calendar.next_working(day + timedelta(days=1)), QUIET_UNTIL, timezone)


def local_slot(
    period: str, weekday: int, hour: int, minute: int, timezone: str, calendar: WorkCalendar
) -> datetime:
    """The slot (`weekday`, 0 = Monday, at `hour`:`minute`) of `period` in someone's own zone:
    that day of the period's ISO week, or the next working day when people do not work on it,
    at the same time; a time in the quiet hours moves to the morning after."""
    year, week = parse_period(period)
    day = calendar.next_working(date.fromisocalendar(year, week, weekday + 1))
    return civil_from(_instant(day, time(hour, minute), timezone), timezone, calendar)


def due(slot: datetime, now: datetime, timezone: str, calendar: WorkCalendar) -> datetime:
    """When a message whose slot is `slot` goes out, seen from `now`: at its slot, or, when
    that has passed and now is not civil (a clock that was down overnight), as soon as it is."""
    if slot >= now:
        return slot
    at = civil_from(now, timezone, calendar)
    return slot if at == now else at


def _local_days(start: datetime, timezone: str) -> Iterable[tuple[date, datetime, datetime]]:
    """Each local day from the one holding `start` on: (date, its start, its end) as UTC
    instants; a day is 23 or 25 hours long across a daylight-saving change."""
    day = start.astimezone(zone(timezone)).date()
    for _ in range(_HORIZON_DAYS):
        following = day + timedelta(days=1)
        yield day, _instant(day, time(0), timezone), _instant(following, time(0), timezone)
        day = following


def after_working_hours(
    start: datetime, hours: float, timezone: str, calendar: WorkCalendar
) -> datetime:
    """The instant at which `hours` hours of working days (weekends and holidays do not count)
    have passed since `start`, in `timezone`."""
    left = timedelta(hours=hours)
    for day, begins, ends in _local_days(start, timezone):
        if not calendar.is_working(day):
            continue
        since = max(start, begins)
        if ends - since >= left:
            return since + left
        left -= ends - since
    raise PulseError("the pilot has no working day: set --working-days")


def is_quiet(moment: datetime, timezone: str, calendar: WorkCalendar) -> bool:
    """True when no bot DM may reach someone in `timezone` at `moment`."""
    return civil_from(moment, timezone, calendar) != moment


# -- what operators type ---------------------------------------------------------------------

# A run of days: "mon-fri", or "Mon–Fri" with the en dash `format_working_days` writes.
_RANGE = re.compile(r"^\s*([a-z0-9]+)\s*[-–]\s*([a-z0-9]+)\s*$")
# What `format_working_days` writes for all seven days, read back too.
_EVERY_DAY = {"every day", "everyday", "daily", "all"}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_day(text: str, option: str = "--day") -> int:
    """ "tue", "Tuesday" or "2" (1 = Monday … 7 = Sunday) → 1 (0 = Monday)."""
    value = text.strip().lower()
    if value.isdigit() and 1 <= int(value) <= 7:
        return int(value) - 1
    for index, day in enumerate(DAYS):
        if len(value) >= 3 and day.startswith(value):
            return index
    raise PulseError(f"{option}: expected a weekday such as tue or Tuesday, got {text!r}")


def parse_working_days(text: str, option: str = "--working-days") -> int:
    """ "mon-fri", "sun-thu", "mon,tue,thu" or "1-5" → the weekday mask."""
    if text.strip().lower() in _EVERY_DAY:
        return 0b1111111
    mask = 0
    for part in text.split(","):
        if not part.strip():
            continue
        ranged = _RANGE.match(part.lower())
        if ranged:
            first, last = parse_day(ranged.group(1), option), parse_day(ranged.group(2), option)
            span = (last - first) % 7
            for offset in range(span + 1):
                mask |= 1 << (first + offset) % 7
        else:
            mask |= 1 << parse_day(part, option)
    if mask == 0:
        raise PulseError(f"{option}: expected at least one working day, such as mon-fri")
    return mask


def format_working_days(mask: int) -> str:
    """The weekday mask as people read it: a run of three days or more as a range with an en
    dash ("Mon" to "Fri", "Sun" to "Thu"), other days listed ("Mon, Tue, Thu")."""
    days = [index for index in range(7) if mask >> index & 1]
    if len(days) == 7:
        return "every day"
    if not days:
        return "no day"
    names = [DAYS[index][:3].title() for index in range(7)]
    # A run of days, possibly across the week's end (Sun–Thu), reads as a range.
    for first in days:
        run = [(first + offset) % 7 for offset in range(len(days))]
        if sorted(run) == days and len(days) > 2:
            return f"{names[run[0]]}–{names[run[-1]]}"
    return ", ".join(names[index] for index in days)


def parse_holidays(text: str, option: str = "--holidays") -> list[str]:
    """ "2026-12-24,2026-12-25" → the sorted ISO dates; "" or "none" clears them. Commas,
    spaces or new lines separate the dates (the Slack form takes one a line too)."""
    if text.strip().lower() in {"", "none"}:
        return []
    days: set[str] = set()
    for value in text.replace(",", " ").split():
        try:
            # `fromisoformat` also takes 20261224 and 2026-W52-4: only YYYY-MM-DD is asked for.
            if not _ISO_DATE.match(value):
                raise ValueError(value)
            days.add(date.fromisoformat(value).isoformat())
        except ValueError:
            raise PulseError(
                f"{option}: expected dates as YYYY-MM-DD separated by commas, got {value!r}"
            ) from None
    return sorted(days)


def format_holidays(days: Iterable[str] | None) -> str:
    """ISO dates as people read them: "24 Dec 2026, 25 Dec 2026", or "none"."""
    shown = [date.fromisoformat(day) for day in sorted(days or ())]
    return ", ".join(f"{day.day} {day:%b %Y}" for day in shown) or "none"


def calendar_of(pilot: object) -> WorkCalendar:
    """The calendar of a pilot (anything with `working_days` and `holidays`)."""
    return WorkCalendar.of(getattr(pilot, "working_days", None), getattr(pilot, "holidays", None))
