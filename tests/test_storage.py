"""Storage on both databases: migrations match the models, UTC timestamps, idempotent writes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from storage import Database, DatabaseError
from storage.models import Pilot, SlackEvent, metadata
from storage.upsert import insert_ignore, upsert


def test_migrations_match_the_models(db: Database) -> None:
    """Fails when a model changes without a migration (or the other way round)."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
    assert db.current_revision() == db.head_revision()


def test_upgrade_from_empty_is_repeatable(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    before, after = db.upgrade()
    assert before is None
    assert after == db.head_revision()
    assert db.upgrade() == (after, after)
    db.dispose()


def test_concurrent_upgrades_of_one_sqlite_file_both_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    errors: list[BaseException] = []

    def upgrade() -> None:
        try:
            Database(url).upgrade()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=upgrade) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Database(url).current_revision() == Database(url).head_revision()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'wal.db'}")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_timestamps_come_back_aware_in_utc(db: Database) -> None:
    created = datetime(2026, 11, 24, 10, 30, tzinfo=timezone(timedelta(hours=2)))
    with db.transaction() as session:
        pilot = Pilot(name="p", tool="t", leadership_channel="C1", created_at=created)
        session.add(pilot)
        session.flush()
        pilot_id = pilot.id
    with db.session() as session:
        pilot = session.get(Pilot, pilot_id)
        assert pilot is not None
        assert pilot.created_at.tzinfo is not None
        assert pilot.created_at == created
        assert pilot.created_at.utcoffset() == timedelta(0)


def test_naive_timestamps_are_refused(db: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"), db.transaction() as session:
        session.add(
            Pilot(name="p", tool="t", leadership_channel="C1", created_at=datetime(2026, 1, 1))
        )


def test_insert_ignore_and_upsert_are_idempotent(db: Database) -> None:
    with db.transaction() as session:
        assert insert_ignore(session, SlackEvent, {"event_id": "Ev1"}, key=["event_id"]) == 1
    with db.transaction() as session:
        assert insert_ignore(session, SlackEvent, {"event_id": "Ev1"}, key=["event_id"]) == 0
        later = datetime(2030, 1, 1, tzinfo=UTC)
        upsert(
            session,
            SlackEvent,
            {"event_id": "Ev1", "received_at": later},
            key=["event_id"],
            update=["received_at"],
        )
    with db.session() as session:
        rows = session.exec(text("SELECT count(*) FROM slack_event")).one()
        assert rows[0] == 1
        assert session.get(SlackEvent, "Ev1").received_at == datetime(2030, 1, 1, tzinfo=UTC)


def test_unreachable_database_is_one_clear_line() -> None:
    db = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert db.ping() is False
    with pytest.raises(DatabaseError) as raised:
        db.ensure_ready(auto_upgrade=True)
    assert str(raised.value).startswith(
        "cannot reach the database postgresql+psycopg://nobody@127.0.0.1:1/none"
    )
    assert "\n" not in str(raised.value)


def test_postgres_behind_schema_is_not_upgraded_silently(db_url: str, db: Database) -> None:
    if not db.is_sqlite:
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM alembic_version"))
        with pytest.raises(DatabaseError, match="run `pilot-pulse db upgrade`"):
            db.ensure_ready(auto_upgrade=True)
    else:
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
        db.ensure_ready(auto_upgrade=True)
        assert db.current_revision() == db.head_revision()
