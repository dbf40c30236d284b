"""Reading an AI tool's own usage export into per-person, per-day rows: pure (text in, rows out),
strict, and all or nothing: one malformed row refuses the whole file, in one line that names the
line number and the problem.

Columns are matched by name (trimmed, case-insensitive), never by position; other columns are
ignored. Dates are `YYYY-MM-DD` UTC dates; a person counts in the ISO week that contains the
date (`week_of`). The formats, and where their columns come from:

- `csv`, the generic file: header `user,date,uses` and an optional `tool`; one row per user
  per day; `user` is an e-mail or a Slack user id (U… or W…); active when `uses` > 0.
- `github-copilot`: the Copilot usage metrics per-user daily report, NDJSON (one object a
  line), fields as in https://docs.github.com/en/copilot/reference/copilot-usage-metrics/copilot-usage-metrics
  and https://docs.github.com/en/copilot/reference/copilot-usage-metrics/example-schema
  (`user_login`, `user_id`, `day`, `organization_id`, `user_initiated_interaction_count`,
  `code_generation_activity_count`, `code_acceptance_activity_count`, `used_chat`,
  `used_agent`, `totals_by_ide`, `totals_by_feature`, …). People are GitHub logins.
- `m365-copilot`: Microsoft 365 Copilot usage, user detail, CSV as Microsoft Graph's
  getMicrosoft365CopilotUsageUserDetail writes it
  (https://learn.microsoft.com/graph/api/reportroot-getmicrosoft365copilotusageuserdetail):
  `Report Refresh Date`, `Report Period`, `User Principal Name`, `Display Name`,
  `Last Activity Date` and one `… Copilot Last Activity Date` column per app. It holds each
  person's last activity date only, and no counts.
  Concealed names (the admin center's default) are refused, with the way to turn them off
  (https://learn.microsoft.com/microsoft-365/admin/activity-reports/activity-reports).
- `chatgpt-enterprise`: the weekly user engagement CSV exported from ChatGPT Enterprise's
  workspace analytics (https://help.openai.com/en/articles/10875114); its columns are those of
  the glossary OpenAI ships with the export (as published in github.com/rappdw/chatgpt-data,
  rawdata/glossary_user_engagement.csv): `cadence`, `period_start`, `period_end`, `email`,
  `name`, `department` (a JSON array in a string), `is_active`, `messages`, `gpt_messages`,
  `tool_messages`, `last_day_active`, ….
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.errors import PulseError


class UsageFormatError(PulseError):
    """A usage file that cannot be read as it is; `str()` is one line, led by the line number
    when one line is at fault: "line 12: 'uses' is -3; expected a whole number ≥ 0"."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.message = message
        self.line = line
        super().__init__(f"line {line}: {message}" if line is not None else message)


class Format(StrEnum):
    CSV = "csv"
    GITHUB = "github-copilot"
    M365 = "m365-copilot"
    CHATGPT = "chatgpt-enterprise"


@dataclass(frozen=True)
class UsageRow:
    identity: str  # an e-mail (lower-cased), a Slack id (as is) or a GitHub login (lower-cased)
    day: date  # UTC date
    active: bool
    uses: int | None  # None where the format has no counts
    tool: str | None = None
    line: int = 0  # 1-based line in the file, for messages


@dataclass
class Parsed:
    format: Format
    # One row per identity and day, in the order each pair first appears. When a file holds the
    # same identity and day twice, the later line wins: an export appended to, or a row fixed by
    # hand further down, says the last word.
    rows: list[UsageRow]
    lines: int  # data rows read, not counting the header (nor blank lines)
    has_counts: bool  # False for M365, which has last-activity dates only


# -- small strict readers -------------------------------------------------------------------

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_WHOLE = re.compile(r"\d+", re.ASCII)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_SLACK_ID = re.compile(r"[UW][A-Z0-9]{2,}", re.ASCII)
_GITHUB_LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*", re.ASCII)
# The admin centre's default since 2021 replaces names with MD5 hashes: 32 hexadecimal digits.
_CONCEALED = re.compile(r"[0-9A-Fa-f]{32}", re.ASCII)
_FLAGS = {"1": True, "0": False, "true": True, "false": False}

CONCEALED_NAMES = (
    "user names are concealed (32-character codes in place of e-mail addresses), so no one can "
    "be matched; in the Microsoft 365 admin center go to Settings > Org settings > Services > "
    "Reports, clear 'Display concealed user, group, and site names in all reports', save, and "
    "export the report again"
)


def _show(value: str) -> str:
    """A cell's value for a one-line message: numbers bare, text quoted and cut short."""
    value = value.strip()
    if not value:
        return "empty"
    if re.fullmatch(r"[-+]?\d+(\.\d*)?", value, re.ASCII):
        return value
    return repr(value if len(value) <= 40 else value[:39] + "…")


class _Dates:
    """Strict `YYYY-MM-DD` dates, remembered: an export repeats a handful of dates many times."""

    def __init__(self) -> None:
        self._seen: dict[str, date] = {}

    def __call__(self, value: str, column: str, line: int) -> date:
        value = value.strip()
        found = self._seen.get(value)
        if found is not None:
            return found
        try:
            if not _DATE.fullmatch(value):
                raise ValueError(value)
            found = date.fromisoformat(value)
        except ValueError:
            raise UsageFormatError(
                f"'{column}' is {_show(value)}; expected a date as YYYY-MM-DD", line
            ) from None
        self._seen[value] = found
        return found

    def optional(self, value: str, column: str, line: int) -> date | None:
        return self(value, column, line) if value.strip() else None


def _count(value: str, column: str, line: int) -> int:
    value = value.strip()
    if not _WHOLE.fullmatch(value):
        raise UsageFormatError(f"'{column}' is {_show(value)}; expected a whole number ≥ 0", line)
    return int(value)


def _flag(value: str, column: str, line: int) -> bool:
    found = _FLAGS.get(value.strip().lower())
    if found is None:
        raise UsageFormatError(f"'{column}' is {_show(value)}; expected 1, 0, true or false", line)
    return found


def _email(value: str, column: str, line: int) -> str:
    value = value.strip()
    if not _EMAIL.fullmatch(value):
        raise UsageFormatError(f"'{column}' is {_show(value)}; expected an e-mail address", line)
    return value.lower()


def _person(value: str, column: str, line: int) -> str:
    """An e-mail (lower-cased) or a Slack user id (kept as it is)."""
    value = value.strip()
    if _EMAIL.fullmatch(value):
        return value.lower()
    if _SLACK_ID.fullmatch(value):
        return value
    raise UsageFormatError(
        f"'{column}' is {_show(value)}; expected an e-mail address or a Slack user id (U… or W…)",
        line,
    )


def _normalise(text: str) -> str:
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _key(name: str) -> str:
    return " ".join(name.split()).lower()


class _Rows:
    """One row per identity and day; a later line for the same pair replaces the earlier one."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, date], UsageRow] = {}

    def add(self, row: UsageRow) -> None:
        self._rows[(row.identity, row.day)] = row

    def all(self) -> list[UsageRow]:
        return list(self._rows.values())


# -- CSV tables -----------------------------------------------------------------------------


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """CSV records that are not blank, each with the line it starts on (a quoted field may run
    over several lines)."""
    reader = csv.reader(io.StringIO(text), strict=True)
    end = 0
    try:
        for record in reader:
            start, end = end + 1, reader.line_num
            if any(cell.strip() for cell in record):
                yield start, record
    except csv.Error as exc:
        raise UsageFormatError(f"not valid CSV ({exc})", reader.line_num) from None


class _Table:
    """A CSV file's header, matched by name, and its data records, each as long as the header."""

    def __init__(self, text: str) -> None:
        self._records = _records(text)
        first = next(self._records, None)
        self.header_line = first[0] if first else 1
        self.names = first[1] if first else []
        self.columns: dict[str, int] = {}
        for index, name in enumerate(self.names):
            key = _key(name)
            if not key:
                continue
            if key in self.columns:
                raise UsageFormatError(f"the header names '{name.strip()}' twice", self.header_line)
            self.columns[key] = index
        self.lines = 0

    @property
    def empty(self) -> bool:
        return not self.names

    def require(self, *names: str) -> list[int]:
        missing = [name for name in names if _key(name) not in self.columns]
        if missing:
            listed = ", ".join(f"'{name}'" for name in missing)
            noun = "column" if len(missing) == 1 else "columns"
            raise UsageFormatError(f"the header has no {listed} {noun}", self.header_line)
        return [self.columns[_key(name)] for name in names]

    def optional(self, name: str) -> int | None:
        return self.columns.get(_key(name))

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        width = len(self.names)
        for line, record in self._records:
            self.lines += 1
            if len(record) != width:
                raise UsageFormatError(
                    f"has {len(record)} fields where the header has {width}", line
                )
            yield line, record


# -- the formats ----------------------------------------------------------------------------


def _parse_csv(text: str) -> Parsed:
    table = _Table(text)
    user, day_at, uses_at = table.require("user", "date", "uses")
    tool_at = table.optional("tool")
    dates, rows = _Dates(), _Rows()
    for line, record in table.rows():
        identity = _person(record[user], "user", line)
        day = dates(record[day_at], "date", line)
        uses = _count(record[uses_at], "uses", line)
        tool = (record[tool_at].strip() or None) if tool_at is not None else None
        rows.add(UsageRow(identity, day, uses > 0, uses, tool, line))
    return Parsed(Format.CSV, rows.all(), table.lines, has_counts=True)


def _json_count(record: dict, field: str, line: int) -> int:
    value = _json_field(record, field, line)
    if type(value) is not int or value < 0:
        shown = json.dumps(value, ensure_ascii=False)
        raise UsageFormatError(f"'{field}' is {_show(shown)}; expected a whole number ≥ 0", line)
    return value


def _json_field(record: dict, field: str, line: int) -> object:
    if field not in record:
        raise UsageFormatError(f"has no '{field}' field", line)
    return record[field]


def _parse_github(text: str) -> Parsed:
    dates, rows, lines = _Dates(), _Rows(), 0
    for line, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        lines += 1
        try:
            record = json.loads(raw)
        except ValueError:
            raise UsageFormatError(
                "is not valid JSON; the report has one JSON object a line (NDJSON)", line
            ) from None
        if not isinstance(record, dict):
            raise UsageFormatError("is not a JSON object; the report has one object a line", line)
        login = _json_field(record, "user_login", line)
        if not isinstance(login, str) or not _GITHUB_LOGIN.fullmatch(login):
            shown = json.dumps(login, ensure_ascii=False)
            raise UsageFormatError(f"'user_login' is {_show(shown)}; expected a GitHub login", line)
        day = _json_field(record, "day", line)
        if not isinstance(day, str):
            day = json.dumps(day)
        interactions = _json_count(record, "user_initiated_interaction_count", line)
        acceptances = _json_count(record, "code_acceptance_activity_count", line)
        rows.add(
            UsageRow(
                login.lower(),
                dates(day, "day", line),
                active=interactions + acceptances > 0,
                uses=interactions,
                line=line,
            )
        )
    return Parsed(Format.GITHUB, rows.all(), lines, has_counts=True)


def _parse_m365(text: str) -> Parsed:
    table = _Table(text)
    upn_at, last_at = table.require("User Principal Name", "Last Activity Date")
    # Every other date the report holds is checked too, so a file with a bad date is refused
    # whole, whichever column it is in.
    other_dates = [
        (name.strip(), index)
        for index, name in enumerate(table.names)
        if index != last_at
        and (_key(name) == "report refresh date" or _key(name).endswith("last activity date"))
    ]
    dates, rows = _Dates(), _Rows()
    for line, record in table.rows():
        upn = record[upn_at].strip()
        if _CONCEALED.fullmatch(upn):
            raise UsageFormatError(CONCEALED_NAMES, line)
        identity = _email(upn, "User Principal Name", line)
        for name, index in other_dates:
            dates.optional(record[index], name, line)
        day = dates.optional(record[last_at], "Last Activity Date", line)
        if day is not None:  # an empty date: never active, so no row
            rows.add(UsageRow(identity, day, active=True, uses=None, line=line))
    return Parsed(Format.M365, rows.all(), table.lines, has_counts=False)


def _parse_chatgpt(text: str) -> Parsed:
    table = _Table(text)
    cadence_at, start_at, end_at, email_at, active_at, messages_at, last_at = table.require(
        "cadence", "period_start", "period_end", "email", "is_active", "messages", "last_day_active"
    )
    dates, rows = _Dates(), _Rows()
    for line, record in table.rows():
        cadence = record[cadence_at].strip()
        if cadence.lower() != "weekly":
            raise UsageFormatError(
                f"'cadence' is {_show(cadence)}; expected 'weekly' (export the weekly report)", line
            )
        start = dates(record[start_at], "period_start", line)
        end = dates(record[end_at], "period_end", line)
        if end < start:
            raise UsageFormatError(f"'period_end' {end} is before 'period_start' {start}", line)
        identity = _email(record[email_at], "email", line)
        active = _flag(record[active_at], "is_active", line)
        # A person who sent nothing may have no count at all; an active one must have one.
        messages = record[messages_at]
        uses = 0 if not active and not messages.strip() else _count(messages, "messages", line)
        # A weekly row counts on one day of its period: the person's last active day when it
        # falls inside the period (always so for an active row of a fresh export), else the
        # period's first day (someone inactive that week, or a past week exported later, whose
        # last_day_active has moved on). Either way the row stays inside its own period.
        last = dates.optional(record[last_at], "last_day_active", line)
        day = last if last is not None and start <= last <= end else start
        rows.add(UsageRow(identity, day, active, uses, line=line))
    return Parsed(Format.CHATGPT, rows.all(), table.lines, has_counts=True)


_PARSERS = {
    Format.CSV: _parse_csv,
    Format.GITHUB: _parse_github,
    Format.M365: _parse_m365,
    Format.CHATGPT: _parse_chatgpt,
}

_KNOWN = (
    "csv (a header with user,date,uses), github-copilot (NDJSON objects with user_login and "
    "day), m365-copilot (the Copilot user detail CSV with User Principal Name) and "
    "chatgpt-enterprise (the weekly user engagement CSV with cadence, period_start and email)"
)


# -- the API --------------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """A file's bytes as text: UTF-8 with or without a byte-order mark, line ends made `\\n`."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageFormatError(
            "the file is not UTF-8 text; export or save it as UTF-8 (CSV UTF-8) and try again"
        ) from None
    return _normalise(text)


def detect(text: str) -> Format:
    """The format, told from the header (a CSV) or the first line (NDJSON)."""
    text = _normalise(text)
    first = next((line for line in io.StringIO(text) if line.strip()), None)
    if first is None:
        raise UsageFormatError(
            f"the file is empty, so its format cannot be told; it knows {_KNOWN}"
        )
    if first.lstrip().startswith("{"):
        try:
            record = json.loads(first)
        except ValueError:
            record = None
        if isinstance(record, dict) and "user_login" in record:
            return Format.GITHUB
        raise UsageFormatError(
            "the first line is JSON but not a per-user Copilot usage record (no 'user_login'); "
            f"it knows {_KNOWN}"
        )
    try:
        header = next(_records(text))[1]
    except UsageFormatError:
        header = []
    names = {_key(name) for name in header}
    if {"cadence", "period_start", "email"} <= names:
        return Format.CHATGPT
    if "user principal name" in names and any(
        name.endswith("copilot last activity date") for name in names
    ):
        return Format.M365
    if {"user", "date"} <= names:
        return Format.CSV
    raise UsageFormatError(f"the file's first line is none of the formats it knows: {_KNOWN}")


def parse(text: str, format: Format | None = None) -> Parsed:
    """Every row of a usage file, or `UsageFormatError` naming the first bad line: all or
    nothing. Without `format`, it is detected. An empty file, or a header alone, has no rows; an
    empty file without a format is read as the generic CSV, since there is nothing to tell."""
    text = _normalise(text)
    chosen = Format(format) if format else None
    if not text.strip():
        chosen = chosen or Format.CSV
        return Parsed(chosen, [], 0, has_counts=chosen is not Format.M365)
    chosen = chosen or detect(text)
    return _PARSERS[chosen](text)


def parse_identities(text: str) -> dict[str, str]:
    """The identities file (header `identity,user`): a tool's identity, lower-cased, to an
    e-mail (lower-cased) or a Slack user id. All or nothing; an identity mapped twice to
    different people is refused, the same mapping twice is not."""
    table = _Table(_normalise(text))
    if table.empty:
        return {}
    identity_at, user_at = table.require("identity", "user")
    mapping: dict[str, str] = {}
    for line, record in table.rows():
        identity = record[identity_at].strip().lower()
        if not identity:
            raise UsageFormatError("'identity' is empty", line)
        user = _person(record[user_at], "user", line)
        earlier = mapping.setdefault(identity, user)
        if earlier != user:
            raise UsageFormatError(
                f"'{identity}' is mapped to {earlier} above and to {user} here", line
            )
    return mapping


def week_of(day: date) -> str:
    """The ISO week that contains the day: "2026-W48"."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"
