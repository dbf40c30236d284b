"""the AI tool's own usage, per member and day

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 20:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pilot_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("tool", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("imported_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name=op.f("fk_usage_day_participant_id_participant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pilot_id"], ["pilot.id"], name=op.f("fk_usage_day_pilot_id_pilot"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_day")),
        sa.UniqueConstraint("participant_id", "day", name=op.f("uq_usage_day_participant_id_day")),
    )
    op.create_index(
        "ix_usage_day_pilot_day",
        "usage_day",
        ["pilot_id", "day", "active", "participant_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_usage_day_pilot_day", table_name="usage_day")
    op.drop_table("usage_day")
