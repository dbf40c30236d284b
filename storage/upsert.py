"""Insert-or-ignore and insert-or-update on both databases, the basis of every idempotent write.

A Slack retry, a double click or a second scheduler meets the unique key and changes nothing
(or updates the same row) instead of adding a second one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic_core import PydanticUndefined
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel


def _insert(session: Session, model: type[SQLModel]) -> Any:
    table: Table = model.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _defaults(model: type[SQLModel]) -> dict[str, Any]:
    """The model's Python-side defaults (timestamps, statuses), computed once per statement."""
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if info.default_factory is not None:
            values[name] = info.default_factory()  # type: ignore[call-arg]
        elif info.default is not PydanticUndefined and info.default is not Ellipsis:
            values[name] = info.default
    for column in model.__table__.primary_key.columns:  # type: ignore[attr-defined]
        if values.get(column.name) is None:
            values.pop(column.name, None)
    return values


def _complete(defaults: dict[str, Any], row: Mapping[str, Any]) -> dict[str, Any]:
    return {**defaults, **row}


def insert_ignore(
    session: Session,
    model: type[SQLModel],
    rows: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    key: Iterable[str],
) -> int:
    """Insert `rows`, skipping any that clash on the unique `key`; returns how many were new."""
    if isinstance(rows, Mapping):
        rows = [rows]
    if not rows:
        return 0
    defaults = _defaults(model)
    values = [_complete(defaults, row) for row in rows]
    table: Table = model.__table__  # type: ignore[attr-defined]
    statement = (
        _insert(session, model)
        .on_conflict_do_nothing(index_elements=list(key))
        # RETURNING yields only the rows inserted: a portable count, where rowcount is not.
        .returning(*table.primary_key.columns)
    )
    # Executed with a list of rows, SQLAlchemy batches them ("insertmanyvalues") and compiles
    # the statement once, instead of one giant VALUES clause per call.
    return len(session.execute(statement, values).all())


def upsert(
    session: Session,
    model: type[SQLModel],
    row: Mapping[str, Any],
    *,
    key: Iterable[str],
    update: Iterable[str],
) -> Any:
    """Insert `row`, or update the columns `update` of the row that has the same `key`.

    Returns the primary key of the row inserted or updated.
    """
    statement = _upsert_statement(session, model, tuple(key), tuple(update))
    return session.execute(statement, _complete(_defaults(model), row)).one()[0]


# Built once per (dialect, table, key, columns updated) and executed with each row's values:
# a statement's `excluded` is an alias of the whole table whose columns refer back to it, a
# reference cycle that only the garbage collector frees; built per call, every upsert left one
# behind (~80 objects), and the collection that freed them fell in whatever ran next.
_UPSERTS: dict[tuple[str, Table, tuple[str, ...], tuple[str, ...]], Any] = {}


def _upsert_statement(
    session: Session, model: type[SQLModel], key: tuple[str, ...], update: tuple[str, ...]
) -> Any:
    table: Table = model.__table__  # type: ignore[attr-defined]
    cache_key = (session.get_bind().dialect.name, table, key, update)
    statement = _UPSERTS.get(cache_key)
    if statement is None:
        insert = _insert(session, model)
        statement = insert.on_conflict_do_update(
            index_elements=list(key),
            set_={column: insert.excluded[column] for column in update},
        ).returning(*table.primary_key.columns)
        _UPSERTS[cache_key] = statement
    return statement


def upsert_many(
    session: Session,
    model: type[SQLModel],
    rows: Sequence[Mapping[str, Any]],
    *,
    key: Iterable[str],
    update: Iterable[str],
    batch: int = 2000,
) -> int:
    """`upsert` for many rows at once, in batches (each a single executemany that SQLAlchemy
    sends as multi-row VALUES); returns how many rows were written."""
    if not rows:
        return 0
    table: Table = model.__table__  # type: ignore[attr-defined]
    defaults = _defaults(model)
    statement = _insert(session, model)
    statement = statement.on_conflict_do_update(
        index_elements=list(key),
        set_={column: statement.excluded[column] for column in update},
    )
    columns = [column.name for column in table.columns if not column.primary_key]
    for start in range(0, len(rows), batch):
        chunk = [_complete(defaults, row) for row in rows[start : start + batch]]
        session.execute(statement, [{c: row.get(c) for c in columns} for row in chunk])
    return len(rows)
