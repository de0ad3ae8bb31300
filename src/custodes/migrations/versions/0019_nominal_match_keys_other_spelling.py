"""nominal: match keys for a name's other spelling (ä ö ü written out as ae oe ue, đ as dj: "Müller" is
matched as Muller and as Mueller, "Đorđević" as Dordevic and as Djordjevic; kit/names.py), and the first
keys recomputed where they changed (đ is now d in them, dj in the other spelling)

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_COLUMNS = ("match_surname_other", "match_forename_other", "match_joined_other")


def upgrade() -> None:
    with op.batch_alter_table("nominal", schema=None) as batch_op:
        for name in _COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=100), nullable=False, server_default=""))
    _fill_other_keys()
    with op.batch_alter_table("nominal", schema=None) as batch_op:
        for name in _COLUMNS:
            batch_op.alter_column(name, existing_type=sa.String(length=100), server_default=None)


def _fill_other_keys() -> None:
    # As 0014 did: only a name with letters outside ASCII can have another spelling or changed keys, so the
    # others keep theirs ("" for the other spelling, what an import stores for them) and are not rewritten;
    # each row whose keys differ from what an import would now store is updated.
    from custodes.kit.names import match_keys, other_match_keys

    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT subject_id, surname, forenames, match_surname, match_forename, match_joined FROM nominal"
        )
    ).all()
    names = ("surname", "forename", "joined", "surname_other", "forename_other", "joined_other")
    changed = []
    for subject_id, surname, forenames, *stored in rows:
        if (surname or "").isascii() and (forenames or "").isascii():
            continue
        keys = (*match_keys(surname, forenames), *other_match_keys(surname, forenames))
        if tuple(stored) != keys[:3] or any(keys[3:]):
            changed.append(dict(zip(names, keys, strict=True)) | {"subject_id": subject_id})
    if changed:
        connection.execute(
            sa.text(
                "UPDATE nominal SET match_surname = :surname, match_forename = :forename,"
                " match_joined = :joined, match_surname_other = :surname_other,"
                " match_forename_other = :forename_other, match_joined_other = :joined_other"
                " WHERE subject_id = :subject_id"
            ),
            changed,
        )


def downgrade() -> None:
    with op.batch_alter_table("nominal", schema=None) as batch_op:
        for name in reversed(_COLUMNS):
            batch_op.drop_column(name)
