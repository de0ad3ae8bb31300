"""ledger: SQLite's INSERT OR REPLACE may not replace a checkpoint or redaction row (a BEFORE INSERT trigger;
the application's connections also turn recursive_triggers on, so the DELETE triggers refuse it everywhere)

Revision ID: 0018
Revises: 0014
Create Date: 2026-11-24 09:00:00
"""

from __future__ import annotations

from alembic import op

from custodes.ledger.models import NO_REPLACE_KEYS, sqlite_no_replace_ddl

revision = "0018"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in sqlite_no_replace_ddl():
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in NO_REPLACE_KEYS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_replace")
