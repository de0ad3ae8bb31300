"""vetting: the outcome of each decision as made (`decision`), kept when the status later changes; vetting
levels stored in one spelling (upper case, no spaces, hyphens or underscores: "NPPV 3" is NPPV3)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("vetting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision", sa.String(length=16), nullable=True))
    # The best that can be known of decisions already stored: a row whose status is still a decision
    # outcome. A row already re-imported as lapsed or withdrawn lost its outcome before this column existed.
    op.execute("UPDATE vetting SET decision = status WHERE status IN ('granted', 'refused')")
    # Levels compared as stored: one spelling. The key (`vetting_key`, named by earlier ledger entries) is
    # left as it was; imports find a stored row by staff, level and decision date, whatever its key says.
    op.execute(
        "UPDATE vetting SET level = UPPER(REPLACE(REPLACE(REPLACE(level, ' ', ''), '-', ''), '_', ''))"
        " WHERE level <> UPPER(REPLACE(REPLACE(REPLACE(level, ' ', ''), '-', ''), '_', ''))"
    )


def downgrade() -> None:
    with op.batch_alter_table("vetting", schema=None) as batch_op:
        batch_op.drop_column("decision")
