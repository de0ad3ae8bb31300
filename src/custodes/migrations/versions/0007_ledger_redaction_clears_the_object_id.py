"""ledger redaction may only clear an entry's object id (it could set it to anything before)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 23:40:00
"""

from __future__ import annotations

from alembic import op

from custodes.ledger.models import APPEND_ONLY_TABLES, postgresql_append_only_ddl, sqlite_append_only_ddl

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        for statement in sqlite_append_only_ddl():
            op.execute(statement)
    else:
        op.execute(postgresql_append_only_ddl()[0])  # CREATE OR REPLACE FUNCTION: the triggers stay


def downgrade() -> None:
    """The stricter guard stays: loosening a ledger's protection is not something to automate."""
