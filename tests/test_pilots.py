"""`pilot-pulse pilot create|list` through the real CLI, against the stand-in and both databases."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from bot.devkit.slack_standin import SlackStandIn
from bot.runtime.cli import main
from storage import Database
from storage.models import Participant, Pilot, Question, QuestionSet, Role
from tests.pulse_helpers import crowd


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _participants(db: Database, name: str) -> dict[str, Participant]:
    with db.session() as session:
        pilot = session.exec(select(Pilot).where(Pilot.name == name)).one()
        rows = session.exec(select(Participant).where(Participant.pilot_id == pilot.id)).all()
    return {p.slack_user_id: p for p in rows}


def test_create_from_a_channel_leaves_out_bots_the_deleted_and_the_app(
    env: dict, db: Database, slack: SlackStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys,
        "pilot",
        "create",
        "support-copilot",
        "--tool",
        "GitHub Copilot",
        "--leadership-channel",
        "C0LEADERS",
        "--members-from-channel",
        "C0TEAM",
        "--champions",
        "U0CHAMPION",
    )
    assert code == 0, err
    assert "created pilot 'support-copilot'" in out
    assert "6 members" in out
    people = _participants(db, "support-copilot")
    assert set(people) == {f"U0PERSON{i}" for i in range(1, 7)} | {"U0CHAMPION"}
    assert people["U0CHAMPION"].role == Role.CHAMPION
    assert people["U0CHAMPION"].surveyed is False
    assert people["U0PERSON2"].slack_tz == "America/New_York"
    assert people["U0PERSON1"].real_name == "Ada Lovelace"
    assert "U0OTHERBOT" in out and "a bot" in out
    assert "U0GONE" in out and "deactivated" in out
    # The app's own user is in the channel but is never made a participant.
    assert slack.bot_user_id not in people
    with db.session() as session:
        pilot = session.exec(select(Pilot)).one()
        # Three of six members are in New York: the schedule follows the most common zone.
        assert pilot.timezone == "America/New_York"
        assert pilot.min_group_size == 5
        [question_set] = session.exec(select(QuestionSet)).all()
        keys = session.exec(
            select(Question.key)
            .where(Question.question_set_id == question_set.id)
            .order_by(Question.position)
        ).all()
        assert keys == ["usage", "usefulness", "time_saved", "trust", "recommend", "comment"]


def test_members_come_from_every_page_of_the_channel(
    env: dict, db: Database, slack: SlackStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    crowd(slack, "U1", 1234, "C0BIG", tz="Europe/Paris")
    code, _, err = run(
        capsys,
        "pilot",
        "create",
        "big",
        "--tool",
        "Claude",
        "--leadership-channel",
        "C0LEADERS",
        "--members-from-channel",
        "C0BIG",
        "--timezone",
        "Europe/Paris",
    )
    assert code == 0, err
    assert len(slack.calls_to("conversations.members")) >= 2
    assert len(_participants(db, "big")) == 1234


def test_members_and_champions_by_id(
    env: dict, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys,
        "pilot",
        "create",
        "small",
        "--tool",
        "Claude",
        "--leadership-channel",
        "C0LEADERS",
        "--members",
        "U0PERSON1,U0PERSON2, U0PERSON3,U0NOSUCH",
        "--champions",
        "U0PERSON1",
        "--min-group-size",
        "3",
    )
    assert code == 0, err
    people = _participants(db, "small")
    assert set(people) == {"U0PERSON1", "U0PERSON2", "U0PERSON3"}
    # A champion who is also a member is surveyed like everyone else.
    assert people["U0PERSON1"].role == Role.CHAMPION and people["U0PERSON1"].surveyed
    assert "U0NOSUCH" in out and "user_not_found" in out


def test_creating_an_existing_pilot_changes_nothing_and_says_so(
    env: dict, db: Database, slack: SlackStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    args = (
        "pilot",
        "create",
        "p1",
        "--tool",
        "Claude",
        "--leadership-channel",
        "C0LEADERS",
        "--members",
        "U0PERSON1",
    )
    assert run(capsys, *args)[0] == 0
    slack.clear()
    code, out, _ = run(capsys, *args[:-1], "U0PERSON2")
    assert code == 0
    assert "exists already; nothing changed" in out
    assert set(_participants(db, "p1")) == {"U0PERSON1"}
    # Nothing was asked of Slack the second time.
    assert slack.calls == []


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        ("C0NOBOT", "not a member of the leadership channel C0NOBOT: invite the bot"),
        ("C0MISSING", "cannot see the leadership channel C0MISSING: invite the bot"),
    ],
)
def test_a_leadership_channel_the_bot_cannot_post_to_is_one_line(
    env: dict, db: Database, capsys: pytest.CaptureFixture[str], channel: str, expected: str
) -> None:
    code, _, err = run(
        capsys,
        "pilot",
        "create",
        "p",
        "--tool",
        "Claude",
        "--leadership-channel",
        channel,
        "--members",
        "U0PERSON1",
    )
    assert code == 1
    assert err.count("\n") == 1
    assert expected in err
    with db.session() as session:
        assert session.exec(select(Pilot)).all() == []


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--members", "U0PERSON1", "--min-group-size", "2"], "--min-group-size: at least 3"),
        ([], "give --members, --members-from-channel and/or --members-from-group"),
        (["--members", "bob"], "--members: expected user IDs"),
        (["--members", "U0PERSON1", "--timezone", "Mars/Base"], "unknown time zone"),
        (
            ["--members", "U0PERSON1", "--working-days", "weekends"],
            "--working-days: expected a weekday such as tue or Tuesday, got 'weekends'",
        ),
        (
            ["--members", "U0PERSON1", "--holidays", "2026-12-24,christmas"],
            "--holidays: expected dates as YYYY-MM-DD separated by commas, got 'christmas'",
        ),
    ],
)
def test_bad_options_are_refused_before_slack_is_asked(
    env: dict,
    slack: SlackStandIn,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    expected: str,
) -> None:
    code, _, err = run(
        capsys,
        "pilot",
        "create",
        "p",
        "--tool",
        "Claude",
        "--leadership-channel",
        "C0LEADERS",
        *extra,
    )
    assert code == 1
    assert expected in err
    assert slack.calls == []


def test_create_with_working_days_and_holidays(
    env: dict, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys,
        "pilot",
        "create",
        "gulf",
        "--tool",
        "Claude",
        "--leadership-channel",
        "C0LEADERS",
        "--members-from-channel",
        "C0TEAM",
        "--working-days",
        "sun-thu",
        "--holidays",
        "2026-12-02,2026-12-01, 2026-12-02",
    )
    assert code == 0, err
    assert "working days: Sun–Thu" in out and "holidays: 1 Dec 2026, 2 Dec 2026" in out
    with db.session() as session:
        pilot = session.exec(select(Pilot).where(Pilot.name == "gulf")).one()
    assert pilot.working_days == 0b1001111
    assert pilot.holidays == ["2026-12-01", "2026-12-02"]
    code, out, _ = run(capsys, "pilot", "list", "--format", "json")
    [listed] = json.loads(out)
    assert listed["working_days"] == "Sun–Thu"
    assert listed["holidays"] == ["2026-12-01", "2026-12-02"]


def test_pilot_list_shows_head_counts(
    env: dict, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "pilot", "list")
    assert code == 0 and "no pilots yet" in out
    run(
        capsys,
        "pilot",
        "create",
        "p1",
        "--tool",
        "Claude",
        "--leadership-channel",
        "C0LEADERS",
        "--members-from-channel",
        "C0TEAM",
        "--champions",
        "U0CHAMPION",
    )
    code, out, _ = run(capsys, "pilot", "list")
    assert code == 0
    header, row = out.strip().splitlines()
    assert header.split()[:4] == ["NAME", "TOOL", "MEMBERS", "CHAMPIONS"]
    assert row.split()[:4] == ["p1", "Claude", "6", "1"]
    code, out, _ = run(capsys, "pilot", "list", "--format", "json")
    [listed] = json.loads(out)
    assert listed["members"] == 6 and listed["champions"] == 1
    # Without --working-days and --holidays: Monday to Friday, no holidays.
    assert listed["working_days"] == "Mon–Fri" and listed["holidays"] == []


def test_commands_that_talk_to_slack_need_the_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys,
        "pilot",
        "create",
        "p",
        "--tool",
        "Claude",
        "--leadership-channel",
        "C0LEADERS",
        "--members",
        "U1",
    )
    assert code == 2
    assert err.startswith("pilot-pulse: SLACK_BOT_TOKEN: is not set")
    assert err.count("\n") == 1
