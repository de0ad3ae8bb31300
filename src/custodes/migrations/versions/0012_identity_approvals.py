"""identity: a role request keeps the roles the account held when it was made; an account, who last set its
password; an API token, its expiry and its approval by a second administrator

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 06:10:00
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from custodes.kit.db import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Empty for requests made before: approving one of those is refused (ask again).
    with op.batch_alter_table("role_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("from_roles", sa.String(length=200), nullable=True))
    # Empty for passwords set before: treated as set by the holder.
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_set_by", sa.String(length=80), nullable=True))
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("approval", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("approved_by", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("approved_at", UTCDateTime(), nullable=True))
    # Tokens made before had no expiry and no approval: they go on working ('before_approvals') for the
    # default lifetime (90 days) from the upgrade, time to replace them with approved ones.
    token = sa.table("api_token", sa.column("expires_at", UTCDateTime()), sa.column("approval", sa.String()))
    op.execute(
        token.update().values(expires_at=datetime.now(UTC) + timedelta(days=90), approval="before_approvals")
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.alter_column("expires_at", existing_type=UTCDateTime(), nullable=False)
        batch_op.alter_column("approval", existing_type=sa.String(length=16), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_column("approved_at")
        batch_op.drop_column("approved_by")
        batch_op.drop_column("approval")
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_column("password_set_by")
    with op.batch_alter_table("role_request", schema=None) as batch_op:
        batch_op.drop_column("from_roles")
