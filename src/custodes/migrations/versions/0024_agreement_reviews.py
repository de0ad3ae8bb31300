"""agreement_review: each review of a sharing agreement recorded on its page (when, by whom, the outcome —
continue, continue with changes, or end — a note, and the next review date), shown as the agreement's review
history

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-24 01:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import custodes.kit.db

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agreement_review",
        sa.Column("review_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agreement_id", sa.String(length=32), nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("next_review_date", sa.Date(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreement.agreement_id"],
            name=op.f("fk_agreement_review_agreement_id_agreement"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("review_id", name=op.f("pk_agreement_review")),
    )
    op.create_index(
        op.f("ix_agreement_review_agreement_id"), "agreement_review", ["agreement_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_agreement_review_agreement_id"), table_name="agreement_review")
    op.drop_table("agreement_review")
