"""referral: the subject's surname and forenames as given; accounts take their last day from the staff
register (0010 added `account.active_until` empty)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 03:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject_surname", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("subject_forenames", sa.String(length=100), nullable=True))
    op.execute(
        "UPDATE account SET active_until = (SELECT leave_date FROM staff WHERE staff.staff_id = account.staff_id)"
        " WHERE active_until IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_column("subject_forenames")
        batch_op.drop_column("subject_surname")
