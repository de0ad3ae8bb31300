"""team: a team's name and area (`custodes import teams`), so screens show "North Division Response Team A
(NA-RESP1)" rather than the bare team id of the staff register and cases

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-23 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import custodes.kit.db

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "team",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("area_code", sa.String(length=8), nullable=True),
        sa.Column("created_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_team")),
    )


def downgrade() -> None:
    op.drop_table("team")
