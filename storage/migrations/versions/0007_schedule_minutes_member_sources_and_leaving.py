"""schedule times to the minute, where a pilot's members come from, and people who left

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 19:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MINUTES = ("pulse_minute", "reminder_minute", "checkin_minute", "digest_minute")


def upgrade() -> None:
    with op.batch_alter_table("pilot", schema=None) as batch_op:
        for column in _MINUTES:
            batch_op.add_column(sa.Column(column, sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column(
                "member_channel_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("member_group_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("named", sa.Boolean(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("left_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
    # Until now a pilot's people were fixed when it was made (a channel was read once, never
    # followed): they count as named, so that a channel followed from now on adds to them
    # without taking anyone off.
    op.execute(
        "UPDATE participant SET named = "
        + ("1" if op.get_bind().dialect.name == "sqlite" else "true")
    )


def downgrade() -> None:
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_column("left_at")
        batch_op.drop_column("named")
    with op.batch_alter_table("pilot", schema=None) as batch_op:
        batch_op.drop_column("member_group_id")
        batch_op.drop_column("member_channel_id")
        for column in reversed(_MINUTES):
            batch_op.drop_column(column)
