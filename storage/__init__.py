"""Persistence for pilot-pulse: SQLModel tables, the engine and sessions, Alembic migrations.

Nothing here knows about Slack or the rest of the app.
"""

from storage.database import Database, DatabaseError

__all__ = ["Database", "DatabaseError"]
