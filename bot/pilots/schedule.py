"""A pilot's week: when the pulse, its reminder, the check-in and the digest go out, as a weekday
and a time in the pilot's time zone; read on every tick of the clock, so a change takes effect
without a restart."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.errors import PulseError
from bot.pilots.calendar import DAYS, calendar_of, local_slot
from bot.pilots.period import day_label, period_of, shift, slot_in_period, zone
from storage.models import Pilot

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


def parse_time(text: str, option: str = "--time") -> tuple[int, int]:
    """ "09:30" → (9, 30), in 24-hour time."""
    match = _TIME.match(text.strip())
    if not match:
        raise PulseError(f"{option}: expected a time such as 09:30 (24-hour), got {text!r}")
    return int(match.group(1)), int(match.group(2))


def personal_instant(pilot: Pilot, slot: Slot, period: str, timezone: str | None) -> datetime:
    """The UTC instant of `slot` in `period` for someone in `timezone` (the pilot's when
    unknown): the pilot's weekday and time read in their own zone, off non-working days,
    holidays and quiet hours."""
    at = when(pilot, slot)
    return local_slot(
        period, at.weekday, at.hour, at.minute, person_zone(timezone, pilot), calendar_of(pilot)
    )


def person_zone(timezone: str | None, pilot: Pilot) -> str:
    """The zone someone's messages follow: their own Slack time zone, else the pilot's (an
    unknown or unusable name included)."""
    if timezone:
        try:
            zone(timezone)
            return timezone
        except ValueError:
            pass
    return pilot.timezone


def next_instant(pilot: Pilot, slot: Slot, now: datetime, timezone: str | None = None) -> datetime:
    """When `slot` next comes for someone in `timezone` (the pilot's by default): this week's
    if it is still ahead, else the first one after."""
    this_week = period_of(now, pilot.timezone)
    for weeks in range(-1, 3):
        at = personal_instant(pilot, slot, shift(this_week, weeks), timezone)
        if at > now:
            return at
    return personal_instant(pilot, slot, shift(this_week, 3), timezone)


def local_when(moment: datetime, timezone: str | None, fallback: str) -> str:
    """`moment` as a person reads it in their own time zone: "Tue 1 Dec at 10:00"."""
    try:
        local = moment.astimezone(zone(timezone or fallback))
    except ValueError:
        local = moment.astimezone(zone(fallback))
    return f"{day_label(local)} at {local:%H:%M}"
