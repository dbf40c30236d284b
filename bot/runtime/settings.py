"""The app's settings: read once from the environment (and a `.env` file) into one object.

Every variable of the operator contract is a field of `Settings`, named after it (`PORT` is
`port`), with its default and its check. A bad value stops the command with one line naming the
variable and what it expects (`SettingsError`), never a traceback.
"""

from __future__ import annotations

import os
import re
from collections import ChainMap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse

from dotenv import dotenv_values
from pydantic import (
    AfterValidator,
    AliasGenerator,
    BeforeValidator,
    ValidationError,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///pilot_pulse.db"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
DEFAULT_PORT = 3000

# Placeholders copied from .env.example must not pass for real secrets.
_PLACEHOLDER = re.compile(r"(changeme|change-me|your[-_]|placeholder|\.\.\.|x{6,})", re.I)
# Error messages quote the value they refuse; a password in it must not end up in a log.
_PASSWORD = re.compile(r"^([^:/]*://[^:/@]*:)[^@]*@")


class SettingsError(ValueError):
    """A setting is missing or malformed; `str()` is the one line to show the operator."""

    def __init__(self, variable: str, expected: str) -> None:
        self.variable = variable
        self.expected = expected
        super().__init__(f"{variable}: {expected}")


def _variable(field_name: str) -> str:
    """The environment variable behind a field: `slack_bot_token` is `SLACK_BOT_TOKEN`."""
    return field_name.upper()


def _shown(value: str) -> str:
    return _PASSWORD.sub(r"\1***@", value)


# The checks below raise a plain ValueError saying what is expected; `from_env` puts the name
# of the variable in front.


def _check_http_url(value: str) -> None:
    try:
        parsed = urlparse(value)
        valid = (
            parsed.scheme in ("http", "https")
            and bool(parsed.hostname)
            and (parsed.port is None or parsed.port > 0)
        )
    except ValueError:  # an unclosed IPv6 bracket; a port past 65535 or not a number at all
        valid = False
    if not valid:
        raise ValueError(f"expected an http or https URL, got {_shown(value)!r}")


def _http_url(value: str | None) -> str | None:
    if value is not None:
        _check_http_url(value)
    return value


def _slack_api_url(value: str) -> str:
    _check_http_url(value)
    # slack_sdk joins method names onto the path, so the path must end with a slash.
    return value if value.endswith("/") else value + "/"


def _token(prefix: str, kind: str) -> Callable[[str | None], str | None]:
    def check(value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(prefix) or len(value) <= len(prefix):
            # Never quote more than the start of what may be a real secret of another kind.
            shown = value[:5] + "…" if len(value) > 5 else value
            raise ValueError(f"expected {kind} starting with {prefix}, got {shown!r}")
        if _PLACEHOLDER.search(value):
            raise ValueError(f"still holds the placeholder from .env.example; put {kind} there")
        return value

    return check


def _signing_secret(value: str | None) -> str | None:
    if value is not None and (_PLACEHOLDER.search(value) or len(value) < 8):
        raise ValueError("expected the app's signing secret (Basic Information page)")
    return value


def _openai_api_key(value: str | None) -> str | None:
    if value is not None and _PLACEHOLDER.search(value):
        raise ValueError("still holds the placeholder from .env.example")
    return value


def _openai_model(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}", value):
        raise ValueError(f"expected a model name such as gpt-4o-mini, got {value!r}")
    return value


def _log_level(value: str) -> str:
    value = value.upper()
    if value not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError(f"expected DEBUG, INFO, WARNING or ERROR, got {value!r}")
    return value


def _log_format(value: str) -> str:
    value = value.lower()
    if value not in ("text", "json"):
        raise ValueError(f"expected text or json, got {value!r}")
    return value


def _database_url(value: str) -> str:
    try:
        url = make_url(value)
    except (ArgumentError, ValueError):
        # ValueError: SQLAlchemy parses the port with int() (`nonsense://::`, `host:notaport`).
        raise ValueError(
            f"expected an SQLAlchemy URL such as sqlite:///pilot_pulse.db or "
            f"postgresql+psycopg://user@host/db, got {_shown(value)!r}"
        ) from None
    # Split the name by hand: SQLAlchemy's own accessors load the dialect, and fail with a
    # traceback on names it does not know, such as Heroku's `postgres`.
    backend, plus, driver = url.drivername.partition("+")
    if backend == "postgres":
        backend = "postgresql"
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"expected a sqlite:// or postgresql:// URL, got {backend}://")
    if url.port is not None and not 1 <= url.port <= 65535:
        raise ValueError(f"expected a port from 1 to 65535, got {url.port}")
    if backend == "sqlite":
        if plus and driver != "pysqlite":
            raise ValueError(f"SQLite is reached through Python's sqlite3, not {driver!r}")
        return url.render_as_string(hide_password=False)
    if plus and driver not in ("psycopg", "psycopg2", "postgres", "postgresql"):
        raise ValueError(f"PostgreSQL is reached through psycopg 3, not {driver!r}")
    if not url.database:
        raise ValueError("the PostgreSQL URL names no database")
    # psycopg 3 is the installed driver whatever the URL names.
    return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def _user_ids(value: Any) -> tuple[str, ...]:
    """`U01,U02 U03` (commas or spaces) → ("U01", "U02", "U03"): Slack user ids, checked."""
    if value is None:
        return ()
    parts = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    for part in parts:
        if not re.fullmatch(r"[UW][A-Z0-9]{2,}", part):
            raise ValueError(f"expected Slack user IDs such as U0123ABCD, got {part!r}")
    return tuple(dict.fromkeys(parts))


def _between(low: float, high: float) -> AfterValidator:
    def check(number: float) -> float:
        if not low <= number <= high:
            got = f"{number:g}" if isinstance(number, float) else str(number)
            raise ValueError(f"expected a number from {low:g} to {high:g}, got {got}")
        return number

    return AfterValidator(check)


def _one_line(error: ValidationError) -> SettingsError:
    """The first thing wrong, as the operator should read it."""
    first = error.errors()[0]
    variable = _variable(str(first["loc"][0])) if first["loc"] else "settings"
    kind = first["type"]
    if kind == "value_error":
        expected = str(first["ctx"]["error"])
    elif kind.startswith("int_"):
        expected = f"expected a whole number, got {first['input']!r}"
    elif kind.startswith("float_"):
        expected = f"expected a number, got {first['input']!r}"
    else:
        expected = " ".join(first["msg"].split())
    return SettingsError(variable, expected)


class _Variables(PydanticBaseSettingsSource):
    """The contract's variables, by their exact names, from one mapping such as the environment."""

    def __init__(
        self, settings_cls: type[BaseSettings], variables: Mapping[str, str | None]
    ) -> None:
        super().__init__(settings_cls)
        self.variables = variables

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        name = _variable(field_name)
        return self.variables.get(name), name, False

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for field_name, field in self.settings_cls.model_fields.items():
            value, name, _ = self.get_field_value(field, field_name)
            if value is not None:
                found[name] = value
        return found


class Settings(BaseSettings):
    """Everything the app reads from its environment, checked.

    `Settings.from_env()` reads the environment and `.env`; `Settings(port=8080, ...)` takes
    exactly what it is given (tests, the demo) and checks it the same way, but reports a bad
    value as pydantic's ValidationError.
    """

    model_config = SettingsConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=AliasGenerator(validation_alias=_variable),
        populate_by_name=True,
    )

    slack_bot_token: Annotated[str | None, AfterValidator(_token("xoxb-", "a bot token"))] = None
    slack_signing_secret: Annotated[str | None, AfterValidator(_signing_secret)] = None
    slack_app_token: Annotated[
        str | None, AfterValidator(_token("xapp-", "an app-level token"))
    ] = None
    slack_api_url: Annotated[str, AfterValidator(_slack_api_url)] = DEFAULT_SLACK_API_URL
    database_url: Annotated[str, AfterValidator(_database_url)] = DEFAULT_DATABASE_URL
    openai_api_key: Annotated[str | None, AfterValidator(_openai_api_key)] = None
    openai_base_url: Annotated[str | None, AfterValidator(_http_url)] = None
    openai_model: Annotated[str, AfterValidator(_openai_model)] = DEFAULT_OPENAI_MODEL
    port: Annotated[int, _between(1, 65535)] = DEFAULT_PORT
    # How many chat.postMessage calls one sender keeps in flight.
    send_concurrency: Annotated[int, _between(1, 64)] = 8
    # The ceiling of the sender's pace; it slows down by itself on HTTP 429.
    send_rate: Annotated[float, _between(0.1, 10000)] = 100.0
    # Days a pulse round accepts answers (and changes to them) after it opens.
    round_close_days: Annotated[int, _between(1, 28)] = 6
    # Days raw free text is kept for the respondent's own view.
    retention_days: Annotated[int, _between(1, 3650)] = 90
    # Seconds the model may take to answer (the SDK retries once).
    openai_timeout: Annotated[float, _between(1, 20)] = 20.0
    log_level: Annotated[str, AfterValidator(_log_level)] = "INFO"
    # `text` for a person reading a terminal, `json` (one object per line) for a log platform.
    log_format: Annotated[str, AfterValidator(_log_format)] = "text"
    # People who may do everything on every pilot (create, end, send now), besides each
    # pilot's own champions and admins.
    admin_user_ids: Annotated[tuple[str, ...], BeforeValidator(_user_ids)] = ()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Built directly, the settings hold only what the caller passes: a developer's own
        # OPENAI_API_KEY or .env must never reach a test. `from_env` does the reading.
        return (init_settings,)

    @model_validator(mode="before")
    @classmethod
    def _blank_means_unset(cls, data: Any) -> Any:
        # `PORT=` or `PORT= ` in a .env file leaves the default in place, as if it were absent.
        if not isinstance(data, Mapping):
            return data
        return {
            key: value.strip() if isinstance(value, str) else value
            for key, value in data.items()
            if not (isinstance(value, str) and not value.strip())
        }

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, dotenv: Path | str | None = ".env"
    ) -> Settings:
        """Read and check the settings; the real environment wins over the `.env` file.

        `environ` replaces `os.environ` (tests pass their own); `dotenv=None` reads no file.
        """
        from_file: Mapping[str, str | None] = {}
        if dotenv is not None and Path(dotenv).is_file():
            from_file = dotenv_values(dotenv)
        from_environment = os.environ if environ is None else environ
        variables = _Variables(cls, ChainMap(dict(from_environment), dict(from_file)))
        try:
            return cls(**variables())
        except ValidationError as exc:
            # pydantic's message spans lines and quotes every bad value, secrets included.
            raise _one_line(exc) from None

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
