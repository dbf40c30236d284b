"""Settings: every variable of the contract read and checked, one line naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.runtime.settings import (
    DEFAULT_DATABASE_URL,
    DEFAULT_PORT,
    DEFAULT_SLACK_API_URL,
    Settings,
    SettingsError,
)


def test_defaults_when_nothing_is_set() -> None:
    settings = Settings.from_env({}, dotenv=None)
    assert settings.slack_bot_token is None
    assert settings.slack_api_url == DEFAULT_SLACK_API_URL
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.port == 3000
    assert settings.uses_llm is False


def test_every_contract_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
            "SLACK_SIGNING_SECRET": "0123456789abcdef",
            "SLACK_APP_TOKEN": "xapp-1-A1-2-abc",
            "SLACK_API_URL": "https://slack-gov.com/api",
            "DATABASE_URL": "postgresql://pulse@db.internal/pulse",
            "OPENAI_API_KEY": "sk-test-key",
            "OPENAI_BASE_URL": "http://127.0.0.1:9999/v1",
            "OPENAI_MODEL": "llama3.1:8b",
            "PORT": "8080",
        },
        dotenv=None,
    )
    assert settings.slack_bot_token == "xoxb-1-2-abc"
    assert settings.slack_app_token == "xapp-1-A1-2-abc"
    # A trailing slash is added so that slack_sdk joins method names onto the path.
    assert settings.slack_api_url == "https://slack-gov.com/api/"
    # Plain postgresql:// URLs are sent through psycopg 3, the driver that is installed.
    assert settings.database_url == "postgresql+psycopg://pulse@db.internal/pulse"
    assert settings.openai_model == "llama3.1:8b"
    assert settings.port == 8080
    assert settings.uses_llm is True


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SLACK_BOT_TOKEN", "xapp-1-2", "starting with xoxb-"),
        ("SLACK_BOT_TOKEN", "xoxb-your-bot-token", "placeholder"),
        ("SLACK_APP_TOKEN", "xoxb-1-2", "starting with xapp-"),
        ("SLACK_API_URL", "slack.com/api", "http or https URL"),
        ("DATABASE_URL", "mysql://root@localhost/x", "sqlite:// or postgresql://"),
        ("DATABASE_URL", "not a url at all", "SQLAlchemy URL"),
        ("DATABASE_URL", "postgresql://localhost", "names no database"),
        ("PORT", "eighty", "whole number"),
        ("PORT", "70000", "from 1 to 65535"),
        ("OPENAI_MODEL", "gpt 4 turbo", "model name"),
        ("OPENAI_BASE_URL", "ftp://models", "http or https URL"),
        ("SLACK_SIGNING_SECRET", "short", "signing secret"),
        ("SEND_CONCURRENCY", "0", "from 1 to 64"),
    ],
)
def test_bad_value_names_the_variable(variable: str, value: str, expected: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({variable: value}, dotenv=None)
    message = str(raised.value)
    assert message.startswith(f"{variable}: ")
    assert expected in message
    assert "\n" not in message


def test_dotenv_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("SLACK_BOT_TOKEN=xoxb-from-file\nPORT=4000\n")
    settings = Settings.from_env({"PORT": "5000"}, dotenv=dotenv)
    assert settings.slack_bot_token == "xoxb-from-file"
    assert settings.port == 5000


def test_require_names_the_missing_variable() -> None:
    settings = Settings.from_env({}, dotenv=None)
    with pytest.raises(SettingsError, match=r"^SLACK_BOT_TOKEN: is not set"):
        settings.require("SLACK_BOT_TOKEN")
    Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"}, dotenv=None).require("SLACK_BOT_TOKEN")


_SQLALCHEMY_URL = (
    "expected an SQLAlchemy URL such as sqlite:///pilot_pulse.db or "
    "postgresql+psycopg://user@host/db, got "
)


def _refusal(variables: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(variables, dotenv=None)
    # One line, raised on its own: no pydantic error chained to it, to be printed by a traceback.
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__
    return str(raised.value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("nonsense://::", f"DATABASE_URL: {_SQLALCHEMY_URL}'nonsense://::'"),
        (
            "postgresql://host:notaport/db",
            f"DATABASE_URL: {_SQLALCHEMY_URL}'postgresql://host:notaport/db'",
        ),
        ("://", f"DATABASE_URL: {_SQLALCHEMY_URL}'://'"),
        ("postgresql://[::1/db", f"DATABASE_URL: {_SQLALCHEMY_URL}'postgresql://[::1/db'"),
        ("postgresql://host:99999/db", "DATABASE_URL: expected a port from 1 to 65535, got 99999"),
        (
            "sqlite+foo:///x.db",
            "DATABASE_URL: SQLite is reached through Python's sqlite3, not 'foo'",
        ),
        (
            "postgresql+asyncpg://host/db",
            "DATABASE_URL: PostgreSQL is reached through psycopg 3, not 'asyncpg'",
        ),
    ],
)
def test_malformed_database_url_is_one_line(value: str, message: str) -> None:
    assert _refusal({"DATABASE_URL": value}) == message


def test_a_refused_database_url_does_not_show_its_password() -> None:
    message = _refusal({"DATABASE_URL": "postgresql://pulse:s3cret@db:bad/pulse"})
    assert message == f"DATABASE_URL: {_SQLALCHEMY_URL}'postgresql://pulse:***@db:bad/pulse'"


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        # Heroku's spelling; SQLAlchemy itself no longer knows it.
        ("postgres://pulse@db/pulse", "postgresql+psycopg://pulse@db/pulse"),
        (
            "postgresql+psycopg2://pulse:p%40ss@db:5432/pulse",
            "postgresql+psycopg://pulse:p%40ss@db:5432/pulse",
        ),
        ("sqlite+pysqlite:///pulse.db", "sqlite+pysqlite:///pulse.db"),
        ("  sqlite:///pulse.db  ", "sqlite:///pulse.db"),
    ],
)
def test_database_url_is_normalised(value: str, normalised: str) -> None:
    assert Settings.from_env({"DATABASE_URL": value}, dotenv=None).database_url == normalised


@pytest.mark.parametrize("variable", ["SLACK_API_URL", "OPENAI_BASE_URL"])
@pytest.mark.parametrize(
    "value", ["http://[::1", "http://host:notaport/api", "http://host:99999/", "http://:80/", "://"]
)
def test_malformed_http_url_is_one_line(variable: str, value: str) -> None:
    assert (
        _refusal({variable: value}) == f"{variable}: expected an http or https URL, got {value!r}"
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PORT", "eighty", "PORT: expected a whole number, got 'eighty'"),
        ("PORT", "80e0", "PORT: expected a whole number, got '80e0'"),
        ("PORT", "0", "PORT: expected a number from 1 to 65535, got 0"),
        ("PORT", "1000000", "PORT: expected a number from 1 to 65535, got 1000000"),
        ("SEND_CONCURRENCY", "8.5", "SEND_CONCURRENCY: expected a whole number, got '8.5'"),
        ("SEND_CONCURRENCY", "65", "SEND_CONCURRENCY: expected a number from 1 to 64, got 65"),
        ("SEND_RATE", "fast", "SEND_RATE: expected a number, got 'fast'"),
        ("SEND_RATE", "0.05", "SEND_RATE: expected a number from 0.1 to 10000, got 0.05"),
        ("SEND_RATE", "nan", "SEND_RATE: expected a number from 0.1 to 10000, got nan"),
        ("ROUND_CLOSE_DAYS", "29", "ROUND_CLOSE_DAYS: expected a number from 1 to 28, got 29"),
        ("RETENTION_DAYS", "-1", "RETENTION_DAYS: expected a number from 1 to 3650, got -1"),
        ("OPENAI_TIMEOUT", "soon", "OPENAI_TIMEOUT: expected a number, got 'soon'"),
        ("OPENAI_TIMEOUT", "20.5", "OPENAI_TIMEOUT: expected a number from 1 to 20, got 20.5"),
        (
            "LOG_LEVEL",
            "verbose",
            "LOG_LEVEL: expected DEBUG, INFO, WARNING or ERROR, got 'VERBOSE'",
        ),
        (
            "SLACK_APP_TOKEN",
            "xapp-your-app-token",
            "SLACK_APP_TOKEN: still holds the placeholder from .env.example; "
            "put an app-level token there",
        ),
    ],
)
def test_bad_value_message_is_exact(variable: str, value: str, message: str) -> None:
    assert _refusal({variable: value}) == message


def test_only_the_first_bad_variable_is_reported() -> None:
    message = _refusal({"PORT": "x", "SLACK_API_URL": "ftp://slack", "LOG_LEVEL": "loud"})
    assert message == "SLACK_API_URL: expected an http or https URL, got 'ftp://slack'"


def test_blank_values_mean_unset_and_values_are_trimmed() -> None:
    settings = Settings.from_env(
        {
            "SLACK_BOT_TOKEN": " xoxb-1-2 ",
            "SLACK_API_URL": " \t",
            "DATABASE_URL": "",
            "PORT": "   ",
            "SEND_RATE": "",
            "OPENAI_API_KEY": " ",
            "LOG_LEVEL": " debug ",
        },
        dotenv=None,
    )
    assert settings.slack_bot_token == "xoxb-1-2"
    assert settings.slack_api_url == DEFAULT_SLACK_API_URL
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.port == DEFAULT_PORT
    assert settings.send_rate == 100.0
    assert settings.uses_llm is False
    assert settings.log_level == "DEBUG"


def test_a_given_environ_replaces_the_real_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-shell")
    monkeypatch.setenv("PORT", "4000")
    assert Settings.from_env({}, dotenv=None).uses_llm is False
    settings = Settings.from_env(dotenv=None)
    assert settings.openai_api_key == "sk-from-the-shell"
    assert settings.port == 4000


def test_dotenv_defaults_to_the_working_directory_and_ignores_other_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("PORT=4000\nport=5\nUNRELATED=1\nSEND_RATE\n")
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings.port == 4000
    assert settings.send_rate == 100.0


def test_direct_construction_checks_but_reads_no_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-shell")
    settings = Settings(
        slack_bot_token="xoxb-1",
        slack_api_url="http://127.0.0.1:9/api",
        database_url="postgresql://pulse@db/pulse",
    )
    assert settings.uses_llm is False
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"
    assert settings.database_url == "postgresql+psycopg://pulse@db/pulse"
    with pytest.raises(ValidationError):
        Settings(extra={})  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        settings.port = 1  # type: ignore[misc]


def test_the_command_line_reports_a_malformed_database_url_in_one_line(tmp_path: Path) -> None:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SLACK_", "OPENAI_", "DATABASE_URL", "PORT"))
    }
    environment["DATABASE_URL"] = "nonsense://::"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "pilot", "list"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr == f"pilot-pulse: DATABASE_URL: {_SQLALCHEMY_URL}'nonsense://::'\n"
