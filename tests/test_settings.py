"""Settings: every variable of the contract read and checked, one line naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.runtime.settings import (
    DEFAULT_DATABASE_URL,
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
