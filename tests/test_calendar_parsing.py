"""What operators type for a pilot's calendar: working days as "mon-fri", "sun-thu",
"mon,tue,thu" or "1-5" and holidays as ISO dates, read into a weekday mask and a sorted list,
written back as people read them, and refused in one line naming the option."""

from __future__ import annotations

import pytest

from bot.errors import PulseError
from bot.pilots.calendar import (
    format_holidays,
    format_working_days,
    parse_holidays,
    parse_working_days,
)

MON_FRI, SUN_THU, EVERY_DAY = 0b0011111, 0b1001111, 0b1111111


@pytest.mark.parametrize(
    ("text", "mask"),
    [
        ("mon-fri", MON_FRI),
        ("Monday-Friday", MON_FRI),
        ("1-5", MON_FRI),
        (" mon - fri ", MON_FRI),
        ("Mon–Fri", MON_FRI),  # the en dash `format_working_days` writes
        ("sun-thu", SUN_THU),  # across the week's end
        ("fri-mon", 0b1110001),
        ("mon,tue,thu", 0b0001011),
        ("mon, tue,,thu,", 0b0001011),
        ("sat", 0b0100000),
        ("7", 0b1000000),
        ("mon-mon", 0b0000001),
        ("mon-wed,fri", 0b0010111),
        ("mon-fri,sat-sun", EVERY_DAY),
        ("every day", EVERY_DAY),
    ],
)
def test_working_days_read_as_a_mask(text: str, mask: int) -> None:
    assert parse_working_days(text) == mask


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "at least one working day"),
        (" , ", "at least one working day"),
        ("funday", "expected a weekday such as tue or Tuesday, got 'funday'"),
        ("mo-fr", "expected a weekday"),  # two letters name no day for sure
        ("0-4", "expected a weekday"),  # 1 is Monday
        ("mon-fri-sat", "expected a weekday"),
        ("8", "expected a weekday"),
    ],
)
def test_bad_working_days_are_one_line_naming_the_option(text: str, message: str) -> None:
    with pytest.raises(PulseError) as caught:
        parse_working_days(text, "--working-days")
    assert str(caught.value).startswith("--working-days: ")
    assert message in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("mask", "text"),
    [
        (MON_FRI, "Mon–Fri"),
        (SUN_THU, "Sun–Thu"),
        (0b1110000, "Fri–Sun"),
        (0b1100001, "Sat–Mon"),
        (0b0111111, "Mon–Sat"),
        (0b0001011, "Mon, Tue, Thu"),
        (0b0000011, "Mon, Tue"),  # two days are listed, not a range
        (0b0000100, "Wed"),
        (EVERY_DAY, "every day"),
        (0, "no day"),
    ],
)
def test_working_days_as_people_read_them(mask: int, text: str) -> None:
    assert format_working_days(mask) == text


@pytest.mark.parametrize("mask", range(1, 128))
def test_every_mask_reads_back_as_itself(mask: int) -> None:
    assert parse_working_days(format_working_days(mask)) == mask


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("2026-12-24,2026-12-25", ["2026-12-24", "2026-12-25"]),
        ("2026-12-25, 2026-12-24, 2026-12-25", ["2026-12-24", "2026-12-25"]),
        ("2026-12-25\n2026-12-24", ["2026-12-24", "2026-12-25"]),  # one a line, as in Slack
        ("2026-12-25 2027-01-01,", ["2026-12-25", "2027-01-01"]),
        ("2028-02-29", ["2028-02-29"]),
        ("", []),
        ("  ", []),
        ("none", []),
        ("None", []),
    ],
)
def test_holidays_read_as_sorted_iso_dates(text: str, days: list[str]) -> None:
    assert parse_holidays(text) == days


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("2026-12-24,24/12/2026", "24/12/2026"),
        ("2026-02-30", "2026-02-30"),
        ("2027-02-29", "2027-02-29"),
        ("20261224", "20261224"),  # `date.fromisoformat` would take it
        ("2026-W52-4", "2026-W52-4"),  # and this
        ("2026-12-24T10:00", "2026-12-24T10:00"),
        ("2026-12-24, none", "none"),
        ("christmas", "christmas"),
    ],
)
def test_bad_holidays_are_one_line_naming_the_option_and_the_date(text: str, wrong: str) -> None:
    with pytest.raises(PulseError) as caught:
        parse_holidays(text, "--holidays")
    message = str(caught.value)
    assert message.startswith("--holidays: expected dates as YYYY-MM-DD")
    assert message.endswith(f"got {wrong!r}") and "\n" not in message


def test_holidays_as_people_read_them() -> None:
    assert format_holidays(["2026-12-25", "2026-12-24"]) == "24 Dec 2026, 25 Dec 2026"
    assert format_holidays(["2027-01-01"]) == "1 Jan 2027"
    assert format_holidays([]) == format_holidays(None) == "none"
