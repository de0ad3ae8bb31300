"""ledger search indexes lead with the entry's era (idx >> 12), so batched appends stay in their newest pages

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 17:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ERA = sa.text("(idx >> 12)")


def upgrade() -> None:
    op.drop_index("ix_ledger_entry_actor", table_name="ledger_entry")
    op.drop_index("ix_ledger_entry_object", table_name="ledger_entry")
    op.drop_index("ix_ledger_subject_subject_id", table_name="ledger_subject")
    op.create_index("ix_ledger_entry_era_actor", "ledger_entry", [ERA, "actor"])
    op.create_index("ix_ledger_entry_era_object", "ledger_entry", [ERA, "object_type", "object_id"])
    op.create_index("ix_ledger_subject_era_subject", "ledger_subject", [ERA, "subject_id"])


def downgrade() -> None:
    op.drop_index("ix_ledger_subject_era_subject", table_name="ledger_subject")
    op.drop_index("ix_ledger_entry_era_object", table_name="ledger_entry")
    op.drop_index("ix_ledger_entry_era_actor", table_name="ledger_entry")
    op.create_index("ix_ledger_subject_subject_id", "ledger_subject", ["subject_id"])
    op.create_index("ix_ledger_entry_object", "ledger_entry", ["object_type", "object_id"])
    op.create_index("ix_ledger_entry_actor", "ledger_entry", ["actor"])
