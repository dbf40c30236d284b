"""a bot turn not yet posted has no Slack ts (NULL), instead of a "pending:" marker

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 18:10:00
"""

from collections.abc import Sequence

import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("checkin_message", schema=None) as batch_op:
        batch_op.alter_column(
            "slack_ts", existing_type=sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True
        )
    # Turns written down but not posted carried a made-up "pending:<hex>" ts; they are the
    # same turns, now marked by having no ts at all. NULLs never clash in the unique key.
    op.execute("UPDATE checkin_message SET slack_ts = NULL WHERE slack_ts LIKE 'pending:%'")


def downgrade() -> None:
    # Back to the marker: each unposted turn gets a distinct one, as before.
    op.execute(
        "UPDATE checkin_message SET slack_ts = 'pending:' || CAST(id AS VARCHAR(20)) "
        "WHERE slack_ts IS NULL"
    )
    with op.batch_alter_table("checkin_message", schema=None) as batch_op:
        batch_op.alter_column(
            "slack_ts", existing_type=sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False
        )
