"""Alembic's environment: migrations run on a connection handed in by `storage.database`,
or on `sqlalchemy.url` when the `alembic` command is used directly by a developer."""

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from storage import models  # noqa: F401 - registers the tables on the metadata
from storage.models import metadata

config = context.config


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=NullPool)
    with engine.connect() as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit(
        "offline (SQL script) migrations are not supported; run `pilot-pulse db upgrade`"
    )
run_migrations_online()
