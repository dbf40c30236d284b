"""answers carry their round, with an index that holds a round's figures

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 19:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("round_id", sa.Integer(), nullable=True))
    # A delivery never changes round, so the copy is exact.
    op.execute(
        "UPDATE answer SET round_id = "
        "(SELECT delivery.round_id FROM delivery WHERE delivery.id = answer.delivery_id)"
    )
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.alter_column("round_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_answer_round_id_round"),
            "round",
            ["round_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(
            "ix_answer_round_figures",
            ["round_id", "question_id", "value_number", "delivery_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.drop_index("ix_answer_round_figures")
        batch_op.drop_constraint(batch_op.f("fk_answer_round_id_round"), type_="foreignkey")
        batch_op.drop_column("round_id")
