"""The AI tools' own usage exports read into per-person, per-day rows: every format, strictly,
all or nothing. The fixtures in tests/data/usage are small enough to check by hand."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.usage.formats import (
    Format,
    Parsed,
    UsageFormatError,
    decode,
    detect,
    parse,
    parse_identities,
    week_of,
)

DATA = Path(__file__).parent / "data" / "usage"


def _read(name: str) -> str:
    return decode((DATA / name).read_bytes())


def _table(parsed: Parsed) -> list[tuple[str, str, bool, int | None]]:
    return [(row.identity, row.day.isoformat(), row.active, row.uses) for row in parsed.rows]


def _weekly(parsed: Parsed) -> dict[str, dict[str, int | None]]:
    """Who is active in which ISO week, with their uses summed (None without counts)."""
    weeks: dict[str, dict[str, int | None]] = {}
    for row in parsed.rows:
        if row.active:
            people = weeks.setdefault(week_of(row.day), {})
            earlier = people.get(row.identity, 0)
            people[row.identity] = None if row.uses is None else (earlier or 0) + row.uses
    return weeks


def _refusal(text: str, format: Format | None = None) -> UsageFormatError:
    with pytest.raises(UsageFormatError) as caught:
        parse(text, format)
    assert "\n" not in str(caught.value)
    return caught.value


# -- each format ----------------------------------------------------------------------------


def test_generic_csv_with_bom_crlf_quoting_and_extra_columns() -> None:
    raw = (DATA / "generic.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw  # the fixture is what it claims
    parsed = parse(_read("generic.csv"))
    assert parsed.format is Format.CSV and parsed.has_counts
    assert parsed.lines == 8
    assert _table(parsed) == [
        ("ana@example.com", "2026-11-16", True, 3),
        ("U0BEN00001", "2026-11-17", True, 5),
        ("carla@example.com", "2026-11-18", False, 0),
        ("dan@example.com", "2026-11-20", True, 1),
        ("ana@example.com", "2026-11-24", True, 4),
        ("U0BEN00001", "2026-11-25", True, 2),
        ("U0BEN00001", "2026-11-26", True, 1),
        ("carla@example.com", "2026-11-27", True, 6),
    ]
    assert [row.tool for row in parsed.rows][:4] == [
        "copilot-chat",
        "copilot-chat",
        None,
        "copilot-edit",
    ]
    # The last row's note runs over two lines, so it starts on line 9 of 10.
    assert [row.line for row in parsed.rows] == [2, 3, 4, 5, 6, 7, 8, 9]
    assert _weekly(parsed) == {
        "2026-W47": {"ana@example.com": 3, "U0BEN00001": 5, "dan@example.com": 1},
        "2026-W48": {"ana@example.com": 4, "U0BEN00001": 3, "carla@example.com": 6},
    }


def test_github_copilot_ndjson() -> None:
    parsed = parse(_read("github-copilot.ndjson"))
    assert parsed.format is Format.GITHUB and parsed.has_counts
    assert parsed.lines == 11  # the blank lines are not rows
    assert _table(parsed) == [
        ("ana-dev", "2026-11-16", True, 4),
        ("bencodes", "2026-11-17", True, 2),
        ("ana-dev", "2026-11-18", True, 0),  # accepted suggestions without a prompt: active
        ("carla-k", "2026-11-19", False, 0),
        ("dan-ops", "2026-11-20", True, 5),
        ("dan-ops", "2026-11-21", True, 2),
        ("bencodes", "2026-11-23", False, 0),  # generated, nothing prompted nor accepted
        ("ana-dev", "2026-11-24", True, 6),
        ("bencodes", "2026-11-25", True, 3),
        ("carla-k", "2026-11-26", True, 1),
        ("carla-k", "2026-11-27", True, 0),
    ]
    assert [row.line for row in parsed.rows][5] == 7  # after the blank line 6
    assert _weekly(parsed) == {
        "2026-W47": {"ana-dev": 4, "bencodes": 2, "dan-ops": 7},
        "2026-W48": {"ana-dev": 6, "bencodes": 3, "carla-k": 1},
    }


def test_github_records_follow_the_published_schema() -> None:
    first = json.loads((DATA / "github-copilot.ndjson").read_text().splitlines()[0])
    for field in (
        "user_login",
        "user_id",
        "day",
        "organization_id",
        "user_initiated_interaction_count",
        "code_generation_activity_count",
        "code_acceptance_activity_count",
        "used_chat",
        "used_agent",
    ):
        assert field in first
    assert first["totals_by_ide"][0]["ide"] == "vscode"
    assert first["totals_by_feature"][0]["feature"]


def test_m365_copilot_counts_the_week_of_the_last_activity_date() -> None:
    parsed = parse(_read("m365-copilot.csv"))
    assert parsed.format is Format.M365 and not parsed.has_counts
    assert parsed.lines == 5
    # Carla's empty Last Activity Date means she never used it: no row.
    assert _table(parsed) == [
        ("ana@example.com", "2026-11-26", True, None),
        ("ben@example.com", "2026-11-17", True, None),
        ("dan@example.com", "2026-11-24", True, None),
        ("eve@example.com", "2026-10-30", True, None),
    ]
    assert _weekly(parsed) == {
        "2026-W48": {"ana@example.com": None, "dan@example.com": None},
        "2026-W47": {"ben@example.com": None},
        "2026-W44": {"eve@example.com": None},
    }


def test_m365_concealed_names_are_refused_with_the_way_to_show_them() -> None:
    error = _refusal(_read("m365-concealed.csv"))
    assert error.line == 2
    assert "Settings > Org settings > Services > Reports" in str(error)
    assert "Display concealed user, group, and site names in all reports" in str(error)


def test_chatgpt_enterprise_weekly_rows_count_on_the_last_active_day_in_the_period() -> None:
    parsed = parse(_read("chatgpt-enterprise.csv"))
    assert parsed.format is Format.CHATGPT and parsed.has_counts
    assert parsed.lines == 8
    assert _table(parsed) == [
        ("ana@example.com", "2026-11-20", True, 12),
        ("ben@example.com", "2026-11-16", True, 3),
        # Inactive: last_day_active before the period (or none) falls back to period_start.
        ("carla@example.com", "2026-11-16", False, 0),
        ("dan@example.com", "2026-11-16", False, 0),
        ("ana@example.com", "2026-11-27", True, 7),
        ("ben@example.com", "2026-11-23", False, 0),
        ("carla@example.com", "2026-11-29", True, 20),
        ("dan@example.com", "2026-11-23", True, 1),
    ]
    assert _weekly(parsed) == {
        "2026-W47": {"ana@example.com": 12, "ben@example.com": 3},
        "2026-W48": {"ana@example.com": 7, "carla@example.com": 20, "dan@example.com": 1},
    }


def test_chatgpt_last_active_day_after_the_period_counts_on_period_start() -> None:
    text = (
        "cadence,period_start,period_end,email,is_active,messages,last_day_active\n"
        "Weekly,2026-11-16,2026-11-22,a@example.com,1,4,2026-12-03\n"
    )
    assert _table(parse(text)) == [("a@example.com", "2026-11-16", True, 4)]


# -- detection ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("generic.csv", Format.CSV),
        ("github-copilot.ndjson", Format.GITHUB),
        ("m365-copilot.csv", Format.M365),
        ("m365-concealed.csv", Format.M365),
        ("chatgpt-enterprise.csv", Format.CHATGPT),
    ],
)
def test_detects_each_format(name: str, expected: Format) -> None:
    assert detect(_read(name)) is expected


def test_detection_matches_header_names_trimmed_and_in_any_case() -> None:
    text = " User , DATE,Uses \nU0AAA,2026-11-16,2\n"
    assert detect(text) is Format.CSV
    assert _table(parse(text)) == [("U0AAA", "2026-11-16", True, 2)]


@pytest.mark.parametrize(
    "text",
    [
        "name,when,count\nana,2026-11-16,2\n",
        "identity,user\nana-dev,ana@example.com\n",
        # Another Microsoft 365 report (Teams user activity): no Copilot columns.
        "Report Refresh Date,User Principal Name,Last Activity Date\n2026-11-29,a@b.com,\n",
        '{"day": "2026-11-16", "enterprise_id": "1", "daily_active_users": 3}\n',
        "[{}]\n",
    ],
)
def test_an_unknown_file_is_refused_naming_the_formats(text: str) -> None:
    with pytest.raises(UsageFormatError) as caught:
        detect(text)
    message = str(caught.value)
    for known in ("csv", "github-copilot", "m365-copilot", "chatgpt-enterprise"):
        assert known in message
    assert "\n" not in message
    with pytest.raises(UsageFormatError):
        parse(text)


def test_the_format_given_wins_over_detection() -> None:
    error = _refusal(_read("generic.csv"), Format.GITHUB)
    assert error.line == 1 and "JSON" in str(error)
    assert parse(_read("generic.csv"), Format.CSV).lines == 8


# -- empty files ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "\n\n", "\ufeff", "  \r\n"])
def test_an_empty_file_has_no_rows(text: str) -> None:
    parsed = parse(text)
    assert (parsed.rows, parsed.lines) == ([], 0)
    assert parse(text, Format.M365).has_counts is False
    with pytest.raises(UsageFormatError, match="empty"):
        detect(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("user,date,uses\n\n", Format.CSV),
        (
            "cadence,period_start,period_end,email,is_active,messages,last_day_active\n",
            Format.CHATGPT,
        ),
        (_read("m365-copilot.csv").splitlines()[0] + "\n", Format.M365),
    ],
)
def test_a_header_alone_has_no_rows(text: str, expected: Format) -> None:
    parsed = parse(text)
    assert (parsed.format, parsed.rows, parsed.lines) == (expected, [], 0)


# -- malformed files: refused whole, naming the line ----------------------------------------


def test_malformed_fixtures_are_refused_with_their_line() -> None:
    assert str(_refusal(_read("bad-date.csv"))) == (
        "line 4: 'date' is '2026/11/18'; expected a date as YYYY-MM-DD"
    )
    assert str(_refusal(_read("negative.csv"))) == (
        "line 3: 'uses' is -3; expected a whole number ≥ 0"
    )
    error = _refusal(_read("missing-column.csv"))
    assert (error.line, str(error)) == (1, "line 1: the header has no 'uses' column")


GENERIC = "user,date,uses\nana@example.com,2026-11-16,3\n"


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("ana@example.com,2026-11-17,12.5", "'uses' is 12.5; expected a whole number ≥ 0"),
        ("ana@example.com,2026-11-17,", "'uses' is empty; expected a whole number ≥ 0"),
        ("ana@example.com,2026-11-17,+4", "'uses' is +4; expected a whole number ≥ 0"),
        ("ana@example.com,2026-11-17,1e3", "'uses' is '1e3'; expected a whole number ≥ 0"),
        ("ana@example.com,2026-02-30,1", "'date' is '2026-02-30'; expected a date as YYYY-MM-DD"),
        ("ana@example.com,20261117,1", "'date' is 20261117; expected a date as YYYY-MM-DD"),
        ("ana@example.com,2026-W47-1,1", "'date' is '2026-W47-1'; expected a date"),
        ("ana@example.com,17/11/2026,1", "'date' is '17/11/2026'; expected a date"),
        ("ana,2026-11-17,1", "'user' is 'ana'; expected an e-mail address or a Slack user id"),
        ("u0abc,2026-11-17,1", "'user' is 'u0abc'; expected an e-mail address or a Slack"),
        (",2026-11-17,1", "'user' is empty"),
        ("ana@example.com,2026-11-17", "has 2 fields where the header has 3"),
        ("ana@example.com,2026-11-17,1,extra", "has 4 fields where the header has 3"),
    ],
)
def test_a_malformed_generic_row_refuses_the_file(row: str, problem: str) -> None:
    error = _refusal(GENERIC + row + "\nU0BEN00001,2026-11-18,2\n")
    assert error.line == 3
    assert str(error).startswith(f"line 3: {problem}")


def test_line_numbers_count_lines_not_records() -> None:
    text = 'user,date,uses,note\n\nana@example.com,2026-11-16,3,"one\ntwo"\nben,2026-11-17,1,\n'
    assert _refusal(text).line == 5


def test_unterminated_quotes_and_doubled_headers_are_refused() -> None:
    assert _refusal('user,date,uses\nana@example.com,2026-11-16,"3\n').line is not None
    error = _refusal("user,date,uses,USES\nana@example.com,2026-11-16,3,4\n")
    assert (error.line, "twice" in str(error)) == (1, True)


NDJSON_OK = json.dumps(
    {
        "user_login": "ana",
        "day": "2026-11-16",
        "user_initiated_interaction_count": 1,
        "code_acceptance_activity_count": 0,
    }
)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"user_login": "ben", "day": "2026-11-16"', "is not valid JSON"),
        ("[1, 2]", "is not a JSON object"),
        (NDJSON_OK.replace('"user_login": "ana", ', ""), "has no 'user_login' field"),
        (NDJSON_OK.replace("2026-11-16", "2026-11-31"), "'day' is '2026-11-31'; expected a date"),
        (NDJSON_OK.replace(": 1,", ": -2,"), "'user_initiated_interaction_count' is -2"),
        (NDJSON_OK.replace(": 1,", ": 1.5,"), "'user_initiated_interaction_count' is 1.5"),
        (NDJSON_OK.replace(": 1,", ': "1",'), "'user_initiated_interaction_count' is '\"1\"'"),
        (NDJSON_OK.replace(": 0}", ": true}"), "'code_acceptance_activity_count' is 'true'"),
        (NDJSON_OK.replace('"ana"', '"a b"'), "'user_login' is '\"a b\"'; expected a GitHub login"),
        (NDJSON_OK.replace('"ana"', "null"), "'user_login' is 'null'"),
    ],
)
def test_a_malformed_github_line_refuses_the_file(line: str, problem: str) -> None:
    error = _refusal(NDJSON_OK + "\n\n" + line + "\n" + NDJSON_OK + "\n")
    assert error.line == 3
    assert str(error).startswith(f"line 3: {problem}")


CHATGPT = "cadence,period_start,period_end,email,is_active,messages,last_day_active\n"


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("monthly,2026-11-01,2026-11-30,a@example.com,1,4,2026-11-20", "'cadence' is 'monthly'"),
        ("weekly,2026-11-16,2026-11-22,a@example.com,yes,4,", "'is_active' is 'yes'; expected 1"),
        ("weekly,2026-11-16,2026-11-22,a@example.com,1,,2026-11-20", "'messages' is empty"),
        ("weekly,2026-11-16,2026-11-22,a@example.com,0,-1,", "'messages' is -1"),
        ("weekly,2026-11-16,2026-11-22,a@example.com,1,4,2026-11-20 10:00", "'last_day_active'"),
        ("weekly,2026-11-22,2026-11-16,a@example.com,1,4,", "'period_end' 2026-11-16 is before"),
        ("weekly,2026-11-16,2026-11-22,user-abc,1,4,", "'email' is 'user-abc'; expected an e-mail"),
    ],
)
def test_a_malformed_chatgpt_row_refuses_the_file(row: str, problem: str) -> None:
    error = _refusal(CHATGPT + row + "\n")
    assert str(error).startswith(f"line 2: {problem}")


def test_chatgpt_booleans_take_true_and_false_too() -> None:
    text = CHATGPT + "weekly,2026-11-16,2026-11-22,a@example.com,TRUE,4,2026-11-18\n"
    text += "weekly,2026-11-16,2026-11-22,b@example.com,false,0,\n"
    assert [row.active for row in parse(text).rows] == [True, False]


def test_a_missing_chatgpt_column_is_named() -> None:
    text = _read("chatgpt-enterprise.csv").replace(",messages,", ",msgs,", 1)
    assert str(_refusal(text)) == "line 1: the header has no 'messages' column"


def test_m365_malformed_rows() -> None:
    lines = _read("m365-copilot.csv").splitlines()
    assert lines[2].endswith(',"Kim, Ben",2026-11-17,,2026-11-17,,,,,,')
    bad_app_date = lines[2].replace(",2026-11-17,,2026-11-17,", ",2026-11-17,,17.11.2026,")
    error = _refusal("\n".join([lines[0], lines[1], bad_app_date]))
    assert str(error).startswith("line 3: 'Word Copilot Last Activity Date' is '17.11.2026'")
    error = _refusal("\n".join([lines[0], lines[1].replace("Ana@Example.com", "ana")]))
    assert str(error).startswith("line 2: 'User Principal Name' is 'ana'; expected an e-mail")
    concealed = _read("m365-concealed.csv").splitlines()[1]
    error = _refusal("\n".join([lines[0], lines[1], concealed]))
    assert error.line == 3 and "concealed" in str(error)


# -- duplicates -----------------------------------------------------------------------------


def test_the_same_person_and_day_twice_keeps_the_later_line() -> None:
    text = GENERIC + "U0BEN00001,2026-11-16,2\nANA@example.com,2026-11-16,7\n"
    parsed = parse(text)
    assert parsed.lines == 3
    assert _table(parsed) == [
        ("ana@example.com", "2026-11-16", True, 7),
        ("U0BEN00001", "2026-11-16", True, 2),
    ]
    assert parsed.rows[0].line == 4
    github = NDJSON_OK + "\n" + NDJSON_OK.replace('"ana"', '"ANA"').replace(": 1,", ": 9,") + "\n"
    assert _table(parse(github)) == [("ana", "2026-11-16", True, 9)]


# -- identities -----------------------------------------------------------------------------


def test_identities_map_tool_identities_to_people() -> None:
    assert parse_identities(_read("identities.csv")) == {
        "ana-dev": "ana@example.com",
        "bencodes": "U0BEN00001",
        "carla-k": "carla@example.com",
        "dan-ops": "dan@example.com",
        "ana.alvarez@gmail.com": "ana@example.com",
    }
    assert parse_identities("") == {}
    assert parse_identities("\ufeffIdentity , USER\r\n") == {}


def test_identities_are_all_or_nothing() -> None:
    header = "identity,user\n"
    with pytest.raises(UsageFormatError, match="line 3: 'user' is 'ana'"):
        parse_identities(header + "ana-dev,ana@example.com\nben,ana\n")
    with pytest.raises(UsageFormatError, match="line 2: 'identity' is empty"):
        parse_identities(header + ",ana@example.com\n")
    with pytest.raises(UsageFormatError, match="line 3: 'ana-dev' is mapped to"):
        parse_identities(header + "ana-dev,ana@example.com\nANA-DEV,U0BEN00001\n")
    with pytest.raises(UsageFormatError, match="line 1: the header has no 'user' column"):
        parse_identities("identity,email\nana-dev,ana@example.com\n")
    same_twice = header + "ana-dev,ana@example.com\nAna-Dev,ANA@example.com\n"
    assert parse_identities(same_twice) == {"ana-dev": "ana@example.com"}


# -- decoding, weeks, size ------------------------------------------------------------------


def test_decode_takes_utf8_with_or_without_bom_and_normalises_line_ends() -> None:
    assert decode("\ufeffuser,date\r\nä,b\r\n".encode()) == "user,date\nä,b\n"
    assert decode(b"a\rb") == "a\nb"
    for data in ("user,date".encode("utf-16"), b"caf\xe9"):
        with pytest.raises(UsageFormatError, match="not UTF-8 text") as caught:
            decode(data)
        assert caught.value.line is None


def test_week_of_is_the_iso_week() -> None:
    assert week_of(date(2026, 11, 23)) == "2026-W48"
    assert week_of(date(2026, 11, 29)) == "2026-W48"
    assert week_of(date(2027, 1, 1)) == "2026-W53"
    assert week_of(date(2026, 1, 5)) == "2026-W02"


def test_errors_are_one_line_with_their_line_number() -> None:
    error = UsageFormatError("'uses' is -3; expected a whole number ≥ 0", 12)
    assert (str(error), error.line) == ("line 12: 'uses' is -3; expected a whole number ≥ 0", 12)
    assert str(UsageFormatError("no line")) == "no line"


def test_ninety_thousand_rows_parse() -> None:
    start = date(2026, 1, 5)
    lines = ["user,date,uses,tool"]
    for n in range(90_000):
        person = f"person{n % 3_000}@example.com" if n % 2 else f"U{n % 3_000:08d}"
        lines.append(f"{person},{start + timedelta(days=n // 3_000)},{n % 7},chat")
    parsed = parse("\n".join(lines) + "\n")
    assert parsed.lines == 90_000
    assert len(parsed.rows) == 90_000
    ndjson = "\n".join(
        NDJSON_OK.replace('"ana"', f'"dev{n % 3_000}"').replace(
            "2026-11-16", str(start + timedelta(days=n // 3_000))
        )
        for n in range(90_000)
    )
    assert len(parse(ndjson).rows) == 90_000
