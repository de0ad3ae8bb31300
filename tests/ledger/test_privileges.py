"""On PostgreSQL the application role has no UPDATE/DELETE/TRUNCATE on ledger tables (besides redaction)."""

from __future__ import annotations

import pytest
import sqlalchemy.exc
from sqlalchemy import text
from sqlalchemy.orm import Session

from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryDraft, Op


def test_app_role_cannot_change_the_ledger(db: Session, backend: str) -> None:
    if backend != "postgresql":
        with pytest.raises(ledger.LedgerError):
            ledger.restrict_app_role(db, "custodes_app")
        return
    db.execute(
        text("DO $$ BEGIN CREATE ROLE custodes_app NOLOGIN; EXCEPTION WHEN duplicate_object THEN END $$")
    )
    ledger.restrict_app_role(db, "custodes_app")
    ledger.record(
        db,
        EntryDraft(actor="system:test", op=Op.COLLECTION, object_type="t", object_id="1", subjects=("N1",)),
    )
    db.commit()
    db.execute(text("SET LOCAL ROLE custodes_app"))
    assert db.execute(text("SELECT count(*) FROM ledger_entry")).scalar_one() >= 1
    for statement in (
        "UPDATE ledger_entry SET op = 'erasure'",
        "DELETE FROM ledger_entry",
        "DELETE FROM ledger_checkpoint",
        "UPDATE ledger_node SET hash = hash",
        "TRUNCATE ledger_entry CASCADE",
    ):
        with pytest.raises(sqlalchemy.exc.ProgrammingError, match="permission denied"), db.begin_nested():
            db.execute(text(statement))
    with db.begin_nested():
        db.execute(
            text(
                "INSERT INTO config_value (key, value, changed_by, changed_at) VALUES ('k', 'v', 'x', now())"
            )
        )
