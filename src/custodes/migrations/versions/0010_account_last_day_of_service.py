"""account: the last day it may be used (a leaver's last day of service, from the staff register)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 03:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("active_until", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_column("active_until")
