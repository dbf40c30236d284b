"""goals, period snapshots, digest claims; the digest's slot moves to Monday 11:00

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "goal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pilot_id", sa.Integer(), nullable=False),
        sa.Column("metric", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("set_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pilot_id"], ["pilot.id"], name=op.f("fk_goal_pilot_id_pilot"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goal")),
        sa.UniqueConstraint("pilot_id", "metric", name=op.f("uq_goal_pilot_id_metric")),
    )
    op.create_table(
        "period_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pilot_id", sa.Integer(), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("min_group_size", sa.Integer(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("computed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pilot_id"],
            ["pilot.id"],
            name=op.f("fk_period_snapshot_pilot_id_pilot"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_period_snapshot")),
        sa.UniqueConstraint("pilot_id", "period", name=op.f("uq_period_snapshot_pilot_id_period")),
    )
    with op.batch_alter_table("digest", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("claimed_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
    # No digest was ever posted before this revision, so the old slot (Friday 15:00, never
    # used) moves to the new default: Monday 11:00, about the week just ended.
    op.execute(
        "UPDATE pilot SET digest_weekday = 0, digest_hour = 11 "
        "WHERE digest_weekday = 4 AND digest_hour = 15"
    )


def downgrade() -> None:
    with op.batch_alter_table("digest", schema=None) as batch_op:
        batch_op.drop_column("claimed_at")
    op.drop_table("period_snapshot")
    op.drop_table("goal")
