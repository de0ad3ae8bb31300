"""staff: rank or grade, collar number, start and leave dates (workforce.md "Records")

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 02:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("collar_number", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("rank", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("start_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("leave_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("leave_date")
        batch_op.drop_column("start_date")
        batch_op.drop_column("rank")
        batch_op.drop_column("collar_number")
