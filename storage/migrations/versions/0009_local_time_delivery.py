"""each person's own morning: deliveries due at a time, working days and holidays, welcomes
that wait for working hours, and the clock's heartbeat

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pilot", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("working_days", sa.Integer(), server_default="31", nullable=False)
        )
        batch_op.add_column(sa.Column("holidays", sa.JSON(), nullable=True))
        batch_op.create_check_constraint("working_days_range", "working_days BETWEEN 1 AND 127")
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("welcome_due_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_participant_welcome_due_at", ["welcome_due_at"], unique=False)
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("due_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "clock_beat",
        sa.Column("clock_id", sqlmodel.sql.sqltypes.AutoString(length=96), nullable=False),
        sa.Column("started_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("beat_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("clock_id", name=op.f("pk_clock_beat")),
    )


def downgrade() -> None:
    op.drop_table("clock_beat")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("due_at")
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_index("ix_participant_welcome_due_at")
        batch_op.drop_column("welcome_due_at")
    with op.batch_alter_table("pilot", schema=None) as batch_op:
        batch_op.drop_constraint("working_days_range", type_="check")
        batch_op.drop_column("holidays")
        batch_op.drop_column("working_days")
