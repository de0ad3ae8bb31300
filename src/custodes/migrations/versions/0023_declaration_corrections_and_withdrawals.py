"""declaration: corrections, withdrawal requests and updates that replace a decided declaration

`declaration` gains `replaces_id` (the declaration an update replaces), `ended` / `ended_at` (withdrawn or
replaced: no longer matched at the pre-access gate) and `withdrawal_requested_at` / `withdrawal_reason` (a
request waiting for the line manager); `declaration_history` keeps what happened to each declaration
(corrections with the values before and after, withdrawal requests and their decisions, replacement), for
its page.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-24 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import custodes.kit.db

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("declaration", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replaces_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("ended", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("ended_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("withdrawal_requested_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("withdrawal_reason", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_declaration_replaces_id"), ["replaces_id"], unique=False)
    op.create_table(
        "declaration_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("declaration_id", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("changes", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declaration_history")),
    )
    with op.batch_alter_table("declaration_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_declaration_history_declaration_id"), ["declaration_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("declaration_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_declaration_history_declaration_id"))
    op.drop_table("declaration_history")
    with op.batch_alter_table("declaration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_declaration_replaces_id"))
        batch_op.drop_column("withdrawal_reason")
        batch_op.drop_column("withdrawal_requested_at")
        batch_op.drop_column("ended_at")
        batch_op.drop_column("ended")
        batch_op.drop_column("replaces_id")
