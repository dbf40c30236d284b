"""A pilot's week: when the pulse, its reminder, the check-in and the digest go out, as a weekday
and a time in the pilot's time zone; read on every tick of the clock, so a change takes effect
without a restart."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.errors import PulseError
from bot.pilots.period import day_label, period_of, shift, slot_in_period, zone
from storage.models import Pilot

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class Slot(StrEnum):
    """The things a pilot schedules each week; each is a weekday and a time on the pilot."""

    PULSE = "pulse"
    REMINDER = "reminder"
    CHECKIN = "checkin"
    DIGEST = "digest"


@dataclass(frozen=True)
class When:
    weekday: int  # 0 = Monday
    hour: int
    minute: int = 0

    def __str__(self) -> str:
        return f"{DAYS[self.weekday][:3].title()} {self.hour:02d}:{self.minute:02d}"


def when(pilot: Pilot, slot: Slot) -> When:
    """The pilot's weekday and time for `slot`."""
    return When(
        getattr(pilot, f"{slot}_weekday"),
        getattr(pilot, f"{slot}_hour"),
        getattr(pilot, f"{slot}_minute"),
    )


def set_when(pilot: Pilot, slot: Slot, value: When) -> None:
    setattr(pilot, f"{slot}_weekday", value.weekday)
    setattr(pilot, f"{slot}_hour", value.hour)
    setattr(pilot, f"{slot}_minute", value.minute)


def instant(pilot: Pilot, slot: Slot, period: str) -> datetime:
    """The UTC instant of `slot` in `period`, in the pilot's time zone."""
    at = when(pilot, slot)
    return slot_in_period(period, pilot.timezone, at.weekday, at.hour, at.minute)


def parse_day(text: str, option: str = "--day") -> int:
    """ "tue", "Tuesday" or "2" (1 = Monday … 7 = Sunday) → 1 (0 = Monday)."""
    value = text.strip().lower()
    if value.isdigit() and 1 <= int(value) <= 7:
        return int(value) - 1
    for index, day in enumerate(DAYS):
        if len(value) >= 3 and day.startswith(value):
            return index
    raise PulseError(f"{option}: expected a weekday such as tue or Tuesday, got {text!r}")


def parse_time(text: str, option: str = "--time") -> tuple[int, int]:
    """ "09:30" → (9, 30), in 24-hour time."""
    match = _TIME.match(text.strip())
    if not match:
        raise PulseError(f"{option}: expected a time such as 09:30 (24-hour), got {text!r}")
    return int(match.group(1)), int(match.group(2))


def next_instant(pilot: Pilot, slot: Slot, now: datetime) -> datetime:
    """When `slot` next comes: this week's if it is still ahead, else next week's."""
    this_week = period_of(now, pilot.timezone)
    at = instant(pilot, slot, this_week)
    return at if at > now else instant(pilot, slot, shift(this_week, 1))


def local_when(moment: datetime, timezone: str | None, fallback: str) -> str:
    """`moment` as a person reads it in their own time zone: "Tue 1 Dec at 10:00"."""
    try:
        local = moment.astimezone(zone(timezone or fallback))
    except ValueError:
        local = moment.astimezone(zone(fallback))
    return f"{day_label(local)} at {local:%H:%M}"
