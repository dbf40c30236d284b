"""Shared fixtures: a database per test on SQLite and PostgreSQL, the Slack stand-in, the running
HTTP app, and Slack-signed requests to it."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.devkit.slack_requests import SlackSender
from bot.devkit.slack_standin import SlackStandIn
from bot.runtime.app import build_app
from bot.runtime.deps import Deps, build_deps
from bot.runtime.server import BackgroundServer
from bot.runtime.settings import Settings
from storage import Database
from tests.openai_standin import OpenAIStandIn

PG_ADMIN_URL = os.environ.get(
    "PILOT_PULSE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SIGNING_SECRET = "test-signing-secret-0123456789"
_ENV_PREFIXES = (
    "SLACK_",
    "OPENAI_",
    "DATABASE_URL",
    "PORT",
    "SEND_",
    "ROUND_",
    "RETENTION_",
    "LOG_",
)


def working_hours() -> datetime:
    """16:00 UTC on the Tuesday of this ISO week: working time for everyone in the test
    workspace (London, Amsterdam, New York, Los Angeles)."""
    real = datetime.now(UTC)
    monday = datetime.combine(real.date() - timedelta(days=real.weekday()), time(0), UTC)
    return monday + timedelta(days=1, hours=16)


@pytest.fixture(autouse=True)
def travel() -> Iterator[time_machine.Coordinates]:
    """Every test runs in working hours, then on with real time. Messages reach people only
    in their working hours, so a test of the pulse run at night or on a Sunday would otherwise
    see nothing sent. A test moves on with `travel.shift(timedelta(days=1))`; tests of timing
    itself set their own time."""
    with time_machine.travel(working_hours(), tick=True) as coordinates:
        yield coordinates


def command_now(*args: str) -> list[str]:
    """`pilot-pulse ARGS` as a command line for a subprocess that starts at this test's time
    (see `travel`) and runs on with real time."""
    script = (
        "import sys, datetime, time_machine\n"
        "time_machine.travel(datetime.datetime.fromisoformat(sys.argv[1]), tick=True).start()\n"
        "from bot.runtime.cli import main\n"
        "sys.exit(main(sys.argv[2:]))\n"
    )
    return [sys.executable, "-c", script, datetime.now(UTC).isoformat(), *args]


def free_port() -> int:
    """A local TCP port nobody is listening on (for a server started as a subprocess)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A developer's real tokens and databases never leak into a test; no stray .env is read."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


# -- databases ------------------------------------------------------------------------------

_counter = itertools.count()


class _PostgresTemplates:
    """A migrated template database, copied for each test: every test gets its own database."""

    def __init__(self) -> None:
        # Pinged before use: a test may restart the server (tests/test_faults.py), and the
        # connection this pool held would be dead for the next test's database.
        self.admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
        self.prefix = f"pp_test_{os.getpid()}"
        self.template = f"{self.prefix}_template"
        self._ready = False

    def _url(self, name: str) -> str:
        return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    def new_database(self) -> str:
        if not self._ready:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.template}"'))
                conn.execute(text(f'CREATE DATABASE "{self.template}"'))
            template = Database(self._url(self.template))
            template.upgrade()
            template.dispose()
            self._ready = True
        name = f"{self.prefix}_{next(_counter)}"
        with self.admin.connect() as conn:
            conn.execute(
                text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}" STRATEGY FILE_COPY')
            )
        return self._url(name)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        if self._ready:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.template}"'))
        self.admin.dispose()


class _SqliteTemplates:
    def __init__(self, directory: Path) -> None:
        self.template = directory / "template.db"
        self._ready = False

    def new_database(self, directory: Path) -> str:
        if not self._ready:
            template = Database(f"sqlite:///{self.template}")
            template.upgrade()
            # Fold the WAL into the main file so that a plain copy is complete.
            raw = template.engine.raw_connection()
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
            raw.close()
            template.dispose()
            self._ready = True
        path = directory / "pilot_pulse.db"
        shutil.copyfile(self.template, path)
        return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def _pg_templates() -> Iterator[_PostgresTemplates]:
    templates = _PostgresTemplates()
    yield templates
    templates.close()


@pytest.fixture(scope="session")
def _sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> _SqliteTemplates:
    return _SqliteTemplates(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database at the latest schema, on each backend."""
    if request.param == "sqlite":
        yield request.getfixturevalue("_sqlite_templates").new_database(tmp_path)
        return
    templates: _PostgresTemplates = request.getfixturevalue("_pg_templates")
    url = templates.new_database()
    yield url
    templates.drop(url)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url, pool_size=20)
    yield database
    database.dispose()


# -- Slack ----------------------------------------------------------------------------------


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    """The Slack stand-in with a small workspace: six people, a bot, a leadership channel."""
    standin = SlackStandIn().start()
    for index, (name, tz) in enumerate(
        [
            ("Ada Lovelace", "Europe/London"),
            ("Grace Hopper", "America/New_York"),
            ("Alan Turing", "Europe/London"),
            ("Katherine Johnson", "America/New_York"),
            ("Edsger Dijkstra", "Europe/Amsterdam"),
            ("Barbara Liskov", "America/New_York"),
        ],
        start=1,
    ):
        standin.add_user(f"U0PERSON{index}", real_name=name, display_name=name.split()[0], tz=tz)
    standin.add_user(
        "U0CHAMPION", real_name="Chris Champion", display_name="Chris", tz="Europe/London"
    )
    standin.add_user("U0OTHERBOT", real_name="Other Bot", is_bot=True)
    standin.add_user("U0GONE", real_name="Gone Person", deleted=True)
    standin.add_channel("C0LEADERS", name="ai-pilot-leads", members=["U0CHAMPION"])
    standin.add_channel(
        "C0TEAM",
        name="support-team",
        members=[
            *(f"U0PERSON{i}" for i in range(1, 7)),
            "U0OTHERBOT",
            "U0GONE",
            standin.bot_user_id,
        ],
    )
    standin.add_channel("C0NOBOT", name="no-bot-here", members=["U0PERSON1"], bot_is_member=False)
    yield standin
    standin.stop()


def make_settings(slack: SlackStandIn, db_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "slack_bot_token": slack.bot_token,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_app_token": slack.app_token,
        "slack_api_url": slack.url,
        "database_url": db_url,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(slack: SlackStandIn, db_url: str) -> Settings:
    return make_settings(slack, db_url)


@pytest.fixture
def deps(settings: Settings, db: Database) -> Iterator[Deps]:
    dependencies = build_deps(settings, db=db)
    # Tests send one reply at a time; waiting for a second quick message only slows them.
    dependencies.checkin_settle = 0.0
    yield dependencies
    dependencies.delayed.close()
    dependencies.executor.shutdown(wait=True)
    dependencies.slow_executor.shutdown(wait=True)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, slack: SlackStandIn, db_url: str) -> dict[str, str]:
    """The environment of an operator whose settings point at the stand-in and the test db."""
    values = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.url,
        "DATABASE_URL": db_url,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


class RunningApp(BackgroundServer):
    """The real app over HTTP, with the deps it was built from."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.bolt = build_app(deps)
        super().__init__(
            self.bolt, deps.db, deps.settings.slack_signing_secret or "", gate=deps.ack_first
        )


@pytest.fixture
def app(deps: Deps) -> Iterator[RunningApp]:
    running = RunningApp(deps).start()
    yield running
    running.stop()


@pytest.fixture
def llm() -> Iterator[OpenAIStandIn]:
    """A local OpenAI-compatible server, reached through the real `openai` SDK."""
    with OpenAIStandIn() as standin:
        yield standin


@pytest.fixture
def sender(app: RunningApp, slack: SlackStandIn) -> SlackSender:
    """Sends Slack-signed requests to the running app, as Slack would."""
    return SlackSender(app.url, SIGNING_SECRET, slack)
