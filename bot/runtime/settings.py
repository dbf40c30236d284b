"""The app's settings: read once from the environment (and a `.env` file) into one object.

Every variable of the operator contract lives here, with its check. A bad value stops the
command with one line naming the variable and what it expects (`SettingsError`), never a
traceback.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from dotenv import dotenv_values
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///pilot_pulse.db"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
DEFAULT_PORT = 3000

# Placeholders copied from .env.example must not pass for real secrets.
_PLACEHOLDER = re.compile(r"(changeme|change-me|your[-_]|placeholder|\.\.\.|x{6,})", re.I)


class SettingsError(ValueError):
    """A setting is missing or malformed; `str()` is the one line to show the operator."""

    def __init__(self, variable: str, expected: str) -> None:
        self.variable = variable
        self.expected = expected
        super().__init__(f"{variable}: {expected}")


def _url(variable: str, value: str, *, schemes: tuple[str, ...] = ("http", "https")) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not parsed.netloc:
        raise SettingsError(variable, f"expected an {' or '.join(schemes)} URL, got {value!r}")
    return value


def _token(variable: str, value: str | None, prefix: str, kind: str) -> str | None:
    if value is None:
        return None
    if not value.startswith(prefix) or len(value) <= len(prefix):
        shown = value[:5] + "…" if len(value) > 5 else value
        raise SettingsError(variable, f"expected {kind} starting with {prefix}, got {shown!r}")
    if _PLACEHOLDER.search(value):
        raise SettingsError(
            variable, f"still holds the placeholder from .env.example; set a real {kind}"
        )
    return value


def _database_url(value: str) -> str:
    try:
        url: URL = make_url(value)
    except ArgumentError:
        raise SettingsError(
            "DATABASE_URL",
            f"expected an SQLAlchemy URL such as sqlite:///pilot_pulse.db or "
            f"postgresql+psycopg://user@host/db, got {value!r}",
        ) from None
    backend = url.get_backend_name()
    if backend == "postgres":  # Heroku-style URLs
        backend = "postgresql"
    if backend not in ("sqlite", "postgresql"):
        raise SettingsError(
            "DATABASE_URL", f"expected a sqlite:// or postgresql:// URL, got {backend}://"
        )
    if backend == "postgresql":
        driver = url.get_driver_name()
        if driver not in ("psycopg", "psycopg2", "postgres", "postgresql"):
            raise SettingsError(
                "DATABASE_URL", f"PostgreSQL is reached through psycopg 3, not {driver!r}"
            )
        # psycopg 3 is the installed driver whatever the URL names.
        url = url.set(drivername="postgresql+psycopg")
        if not url.database:
            raise SettingsError("DATABASE_URL", "the PostgreSQL URL names no database")
    return url.render_as_string(hide_password=False)


def _integer(variable: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(variable, f"expected a whole number, got {value!r}") from None
    if not low <= number <= high:
        raise SettingsError(variable, f"expected a number from {low} to {high}, got {number}")
    return number


def _number(variable: str, value: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise SettingsError(variable, f"expected a number, got {value!r}") from None
    if not low <= number <= high:
        raise SettingsError(variable, f"expected a number from {low:g} to {high:g}, got {number:g}")
    return number


@dataclass(frozen=True)
class Settings:
    """Everything the app reads from its environment, checked."""

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    openai_model: str = DEFAULT_OPENAI_MODEL
    port: int = DEFAULT_PORT
    # How many chat.postMessage calls one sender keeps in flight.
    send_concurrency: int = 8
    # The ceiling of the sender's pace; it slows down by itself on HTTP 429.
    send_rate: float = 100.0
    # Days a pulse round accepts answers (and changes to them) after it opens.
    round_close_days: int = 6
    # Days raw free text is kept for the respondent's own view.
    retention_days: int = 90
    # Seconds the model may take to answer (the SDK retries once).
    openai_timeout: float = 20.0
    log_level: str = "INFO"
    extra: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, dotenv: Path | str | None = ".env"
    ) -> Settings:
        """Read and check the settings; the real environment wins over the `.env` file."""
        values: dict[str, str] = {}
        if dotenv is not None and Path(dotenv).is_file():
            values.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
        values.update(os.environ if environ is None else environ)

        def get(name: str) -> str | None:
            value = values.get(name)
            if value is None:
                return None
            value = value.strip()
            return value or None

        api_url = _url("SLACK_API_URL", get("SLACK_API_URL") or DEFAULT_SLACK_API_URL)
        if not api_url.endswith("/"):
            api_url += "/"
        openai_base_url = get("OPENAI_BASE_URL")
        if openai_base_url is not None:
            _url("OPENAI_BASE_URL", openai_base_url)
        model = get("OPENAI_MODEL") or DEFAULT_OPENAI_MODEL
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}", model):
            raise SettingsError(
                "OPENAI_MODEL", f"expected a model name such as gpt-4o-mini, got {model!r}"
            )
        openai_key = get("OPENAI_API_KEY")
        if openai_key is not None and _PLACEHOLDER.search(openai_key):
            raise SettingsError("OPENAI_API_KEY", "still holds the placeholder from .env.example")
        secret = get("SLACK_SIGNING_SECRET")
        if secret is not None and (_PLACEHOLDER.search(secret) or len(secret) < 8):
            raise SettingsError(
                "SLACK_SIGNING_SECRET", "expected the app's signing secret (Basic Information page)"
            )
        log_level = (get("LOG_LEVEL") or "INFO").upper()
        if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise SettingsError(
                "LOG_LEVEL", f"expected DEBUG, INFO, WARNING or ERROR, got {log_level!r}"
            )
        return cls(
            slack_bot_token=_token(
                "SLACK_BOT_TOKEN", get("SLACK_BOT_TOKEN"), "xoxb-", "a bot token"
            ),
            slack_signing_secret=secret,
            slack_app_token=_token(
                "SLACK_APP_TOKEN", get("SLACK_APP_TOKEN"), "xapp-", "an app-level token"
            ),
            slack_api_url=api_url,
            database_url=_database_url(get("DATABASE_URL") or DEFAULT_DATABASE_URL),
            openai_api_key=openai_key,
            openai_base_url=openai_base_url,
            openai_model=model,
            port=_integer("PORT", get("PORT") or str(DEFAULT_PORT), 1, 65535),
            send_concurrency=_integer("SEND_CONCURRENCY", get("SEND_CONCURRENCY") or "8", 1, 64),
            send_rate=_number("SEND_RATE", get("SEND_RATE") or "100", 0.1, 10000),
            round_close_days=_integer("ROUND_CLOSE_DAYS", get("ROUND_CLOSE_DAYS") or "6", 1, 28),
            retention_days=_integer("RETENTION_DAYS", get("RETENTION_DAYS") or "90", 1, 3650),
            openai_timeout=_number("OPENAI_TIMEOUT", get("OPENAI_TIMEOUT") or "20", 1, 20),
            log_level=log_level,
        )

    def require(self, *names: str) -> None:
        """Stop with a clear line when a setting a command needs is unset."""
        needs = {
            "SLACK_BOT_TOKEN": (
                self.slack_bot_token,
                "is not set; put the app's bot token (xoxb-…) in the environment or .env",
            ),
            "SLACK_SIGNING_SECRET": (
                self.slack_signing_secret,
                "is not set; HTTP mode needs the app's signing secret",
            ),
            "SLACK_APP_TOKEN": (
                self.slack_app_token,
                "is not set; Socket Mode needs an app-level token (xapp-…) with connections:write",
            ),
        }
        for name in names:
            value, why = needs[name]
            if not value:
                raise SettingsError(name, why)

    @property
    def uses_llm(self) -> bool:
        """Whether free text may be sent to the configured model."""
        return self.openai_api_key is not None
