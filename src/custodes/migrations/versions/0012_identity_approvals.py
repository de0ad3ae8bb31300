"""identity: a role request keeps the roles the account held when it was made; an account, who last set its
password

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 06:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

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


def downgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_column("password_set_by")
    with op.batch_alter_table("role_request", schema=None) as batch_op:
        batch_op.drop_column("from_roles")
