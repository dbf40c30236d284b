"""The engine, sessions and schema upgrades: one `Database` per process, SQLite or PostgreSQL.

SQLite runs in WAL mode with a busy timeout, so the web and clock processes can share one file;
PostgreSQL is reached through psycopg 3. The schema is managed by Alembic alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, InvalidatePoolError, OperationalError
from sqlalchemy.pool import QueuePool, StaticPool
from sqlmodel import Session

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 15_000
# Any fixed number serves; it only has to be the same in every process.
_PG_MIGRATION_LOCK = 7_031_946_022
# PostgreSQL's SQLSTATE classes for "the server cannot be reached": a connection exception
# (08...) or an operator's intervention (57P01 shut down by the administrator, 57P02 crash
# shutdown, 57P03 cannot connect now).
_UNREACHABLE_STATES = ("08", "57P")

log = logging.getLogger(__name__)

T = TypeVar("T")


class DatabaseError(RuntimeError):
    """The database cannot be used; `str()` is one line for the operator."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers and one writer work at once; the busy timeout makes a second writer wait
    # instead of failing with "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # A unit of work that writes takes SQLite's write lock up front (BEGIN IMMEDIATE, waiting
    # up to the busy timeout): a deferred transaction that reads and then writes can fail at
    # once with "database is locked" when another writer got in between. Reads stay deferred,
    # so they never wait for writers (WAL).
    if conn.get_execution_options().get("writes"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def build_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine for `url` with the settings each backend needs."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            folder = Path(database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(
                    f"cannot create the folder {folder} for the SQLite database: {exc.strerror}"
                ) from None
        memory = database in ("", ":memory:")
        engine = create_engine(
            url,
            # An error's text would otherwise carry the statement's values: people's words.
            hide_parameters=True,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            # Pooled connections spare every unit of work a fresh open and its pragmas; an
            # in-memory database must stay on one connection to stay the same database.
            poolclass=StaticPool if memory else QueuePool,
            **({} if memory else {"pool_size": pool_size, "max_overflow": pool_size}),
        )
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_transactions(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = create_engine(
        url,
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        connect_args={"connect_timeout": 5},
    )
    dialect = engine.dialect

    def ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("returned", 0.0) < IDLE_BEFORE_PING:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool drops this connection and those as old, and opens a fresh one.
            raise InvalidatePoolError(f"a pooled connection was dropped: {exc}") from exc
        if not alive:
            raise InvalidatePoolError("a pooled connection was dropped")

    event.listen(engine, "checkout", ping_if_idle)
    event.listen(engine, "checkin", _returned)
    event.listen(engine, "connect", _returned)
    return engine


# A pooled connection that has sat idle may have been dropped (a restart, a failover, a
# proxy's idle timeout), so it is pinged before use; one returned a moment ago is not. A ping
# on every checkout (`pool_pre_ping`) is a round trip per unit of work: a third of a click's
# acknowledgement on a busy machine (py-spy, bench/ack_latency.py). A connection that died in
# that moment fails its first statement as a disconnect, which empties the pool, and the work
# that must not fail (answers, sends, claims) is retried by `Database.retrying`.
IDLE_BEFORE_PING = 2.0


def _returned(_dbapi_connection: Any, record: Any, *_: Any) -> None:
    record.info["returned"] = time.monotonic()


class Database:
    """One engine and the ways to use it: short sessions, health, schema upgrades."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine = build_engine(url, pool_size=pool_size)
        # The same pool, marked so that SQLite begins these transactions for writing.
        self._writer = self.engine.execution_options(writes=True)
        # The same pool again, each statement committing on its own (see `statements`).
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        # SQLite has one writer at a time, and a writer that finds the lock taken sleeps in
        # growing steps (up to 100 ms) before it looks again. Queuing this process's writers
        # on a lock of our own hands the database over the moment it is free.
        self._write_turn = threading.Lock() if self.is_sqlite else contextlib.nullcontext()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def session(self) -> Session:
        """A new session; use it as `with db.session() as session:` for one unit of work."""
        return Session(self.engine, expire_on_commit=False)

    @contextlib.contextmanager
    def statements(self) -> Iterator[Session]:
        """A session whose every statement is a whole unit of work on its own, committed as it
        runs: on PostgreSQL one round trip per statement, with no BEGIN and no COMMIT, which on
        a busy machine are half of a click's wait. On SQLite, where a round trip costs nothing,
        a write transaction as `transaction()` gives. Only for work whose statements need no
        transaction around them."""
        if self.is_sqlite:
            with self.transaction() as session:
                yield session
            return
        with Session(self._autocommit, expire_on_commit=False) as session:
            yield session

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session that writes: committed at the end of the block, rolled back on error."""
        with (
            self._write_turn,
            Session(self._writer, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    def retrying(self, work: Callable[[], T], *, patience: float) -> T:
        """`work()`, done again while the database server cannot be reached (a restart, a
        failover, a dropped connection), for up to `patience` seconds; then its error is raised.

        Only for a unit of work that is safe to do twice: the connection may drop after the
        server has committed it. SQLite has no server to lose: its errors are raised at once.
        """
        deadline = time.monotonic() + patience
        pause = 0.05
        while True:
            try:
                return work()
            except DBAPIError as exc:
                if not self._unreachable(exc) or time.monotonic() + pause > deadline:
                    raise
                log.warning("the database cannot be reached (%s); trying again", _first_line(exc))
            time.sleep(pause)
            pause = min(pause * 2, 1.0)

    def _unreachable(self, exc: DBAPIError) -> bool:
        if self.is_sqlite:
            return False
        if exc.connection_invalidated:
            return True
        if not isinstance(exc, OperationalError | InterfaceError):
            return False
        state = getattr(exc.orig, "sqlstate", None)
        # A failure to connect at all carries no SQLSTATE.
        return state is None or str(state).startswith(_UNREACHABLE_STATES)

    def ping(self) -> bool:
        """True while the database answers a trivial query."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except OperationalError:
            return False
        except Exception:
            return False

    def describe(self) -> str:
        """The URL with any password hidden, for messages."""
        return make_url(self.url).render_as_string(hide_password=True)

    # -- schema -------------------------------------------------------------------------------

    def _alembic_config(self) -> Any:
        from alembic.config import Config  # Alembic is needed only when the schema is checked

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        return config

    def head_revision(self) -> str | None:
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(self._alembic_config()).get_current_head()

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def upgrade(self) -> tuple[str | None, str | None]:
        """Bring the schema to the latest revision; safe when several processes do it at once.

        Returns (revision before, revision after).
        """
        try:
            with self._migration_lock():
                before = self.current_revision()
                from alembic import command

                with self._writer.begin() as conn:
                    config = self._alembic_config()
                    config.attributes["connection"] = conn
                    command.upgrade(config, "head")
                after = self.current_revision()
        except OperationalError as exc:
            raise DatabaseError(
                f"cannot reach the database {self.describe()}: {_first_line(exc)}"
            ) from None
        return before, after

    def ensure_ready(self, *, auto_upgrade: bool) -> None:
        """Check the database answers and has the latest schema.

        SQLite is upgraded in place when `auto_upgrade` is set (the zero-setup default);
        PostgreSQL is upgraded only by `pilot-pulse db upgrade`, an operator's deliberate step.
        """
        try:
            current = self.current_revision()
        except OperationalError as exc:
            raise DatabaseError(
                f"cannot reach the database {self.describe()}: {_first_line(exc)}"
            ) from None
        head = self.head_revision()
        if current == head:
            return
        if auto_upgrade and self.is_sqlite:
            self.upgrade()
            return
        raise DatabaseError(
            f"the database schema is at {current or 'nothing'}, not {head}; "
            "run `pilot-pulse db upgrade` first"
        )

    @contextlib.contextmanager
    def _migration_lock(self) -> Iterator[None]:
        if self.is_sqlite:
            database = make_url(self.url).database
            if not database or database == ":memory:":
                yield
                return
            lock_path = Path(database).expanduser().with_suffix(".migrate.lock")
            with open(lock_path, "w") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
            return
        with self.engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_MIGRATION_LOCK})
                conn.commit()

    def dispose(self) -> None:
        self.engine.dispose()


def _first_line(exc: BaseException) -> str:
    message = str(getattr(exc, "orig", None) or exc).strip()
    return message.splitlines()[0] if message else type(exc).__name__
