"""Question sets: export and import through the CLI, validation, versions that keep answers honest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from bot.devkit.slack_requests import SlackSender
from bot.devkit.slack_standin import SlackStandIn
from bot.pilots.question import DEFAULT_QUESTIONS, QuestionsError, export_toml, parse_toml
from bot.runtime.cli import main
from storage.models import Answer, Question, QuestionSet
from tests.conftest import RunningApp
from tests.pulse_helpers import click, make_pilot, pulse_message, send

CUSTOM = """
[[question]]
key = "usage"
kind = "choice"
text = "Did you use {tool} for ticket replies this week?"
options = [{value = 0, label = "No"}, {value = 1, label = "Yes"}]

[[question]]
key = "quality"
kind = "scale"
text = "Were the drafts good enough to send?"
min = 1
max = 3
min_label = "Rarely"
max_label = "Mostly"

[[question]]
key = "comment"
kind = "text"
text = "Anything else?"
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_export_then_import_unchanged_is_a_no_op(
    env: dict, app: RunningApp, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    make_pilot(app.deps)
    code, exported, _ = run(capsys, "questions", "export", "support-copilot")
    assert code == 0
    assert parse_toml(exported) == DEFAULT_QUESTIONS
    path = tmp_path / "q.toml"
    path.write_text(exported)
    code, out, _ = run(capsys, "questions", "import", "support-copilot", str(path))
    assert code == 0 and "unchanged (still version 1)" in out


def test_an_edited_set_is_a_new_version_and_old_answers_keep_their_questions(
    env: dict,
    app: RunningApp,
    sender: SlackSender,
    slack: SlackStandIn,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    make_pilot(app.deps)
    send(app.deps)
    click(sender, slack, "U0PERSON1", "Daily")
    path = tmp_path / "custom.toml"
    path.write_text(CUSTOM)
    code, out, err = run(capsys, "questions", "import", "support-copilot", str(path))
    assert code == 0, err
    assert "now version 2 (3 questions); used from the next round on" in out
    with app.deps.db.session() as session:
        versions = session.exec(select(QuestionSet.version)).all()
        answer = session.exec(select(Answer)).one()
        answered = session.get(Question, answer.question_id)
        set_of_answer = session.get(QuestionSet, answered.question_set_id)
    assert sorted(versions) == [1, 2]
    assert set_of_answer.version == 1 and answered.text == "How often did you use {tool} this week?"
    # This week's round keeps version 1; next week's uses version 2 with its own buttons.
    now = app.deps.clock()
    from datetime import timedelta

    app.deps.clock = lambda: now + timedelta(days=7)
    send(app.deps)
    dm = pulse_message(slack, "U0PERSON2", 1)
    assert "Did you use Copilot for ticket replies this week?" in json.dumps(dm["blocks"])
    code, exported, _ = run(capsys, "questions", "export", "support-copilot")
    assert "(version 2)" in exported and 'key = "quality"' in exported


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("this is = not [valid", "not valid TOML"),
        (
            '[[question]]\nkey = "Bad Key"\nkind = "scale"\ntext = "x"\nmin = 1\nmax = 5\n',
            "key must be lower_snake_case",
        ),
        ('[[question]]\nkey = "a"\nkind = "text"\ntext = "Say?"\n', "must be a choice or a scale"),
        (
            '[[question]]\nkey = "a"\nkind = "scale"\ntext = "x"\nmin = 5\nmax = 1\n',
            "max must be greater than min",
        ),
        (
            '[[question]]\nkey = "a"\nkind = "scale"\ntext = "x"\nmin = 0\nmax = 20\n',
            "at most 11 points",
        ),
        (
            '[[question]]\nkey = "a"\nkind = "choice"\ntext = "x"\noptions = [{value = 1, label = "Only"}]\n',
            "options must list 2 to 11",
        ),
        (
            '[[question]]\nkey = "a"\nkind = "choice"\ntext = "x"\noptions = [{value = 1, label = "A"}, {value = 1, label = "B"}]\n',
            "option values must differ",
        ),
        (
            '[[question]]\nkey = "a"\nkind = "poll"\ntext = "x"\n',
            "kind must be choice, scale or text",
        ),
        (
            '[[question]]\nkey = "a"\nkind = "scale"\ntext = "x"\nmin = 1\nmax = 5\ncolour = "red"\n',
            "'colour' does not belong",
        ),
        (
            '[[question]]\nkey = "a"\nkind = "scale"\ntext = "x"\nmin = 1\nmax = 5\n[[question]]\nkey = "a"\nkind = "text"\ntext = "y"\n',
            "used twice",
        ),
        ("", "no [[question]] entries"),
    ],
)
def test_bad_question_files_are_refused_with_where_and_why(text: str, expected: str) -> None:
    with pytest.raises(QuestionsError) as raised:
        parse_toml(text)
    assert expected in str(raised.value)


def test_a_bad_file_through_the_cli_is_one_line_and_changes_nothing(
    env: dict, app: RunningApp, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    make_pilot(app.deps)
    path = tmp_path / "bad.toml"
    path.write_text('[[question]]\nkey = "a"\nkind = "text"\ntext = "Say?"\n')
    code, _, err = run(capsys, "questions", "import", "support-copilot", str(path))
    assert code == 1 and err.count("\n") == 1 and "question 1 (a)" in err
    code, _, err = run(
        capsys, "questions", "import", "support-copilot", str(tmp_path / "missing.toml")
    )
    assert code == 1 and "cannot read" in err
    code, _, err = run(capsys, "questions", "export", "no-such-pilot")
    assert code == 1 and "no pilot called 'no-such-pilot'" in err
    with app.deps.db.session() as session:
        assert len(session.exec(select(QuestionSet)).all()) == 1


def test_export_round_trips_every_default_question() -> None:
    text = export_toml(DEFAULT_QUESTIONS, pilot="p", version=1)
    assert text.startswith("# pilot-pulse questions for p (version 1).")
    assert parse_toml(text) == DEFAULT_QUESTIONS
