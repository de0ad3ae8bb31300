"""nominal: folded match keys (every written-out ae oe ue aa dj read as its plain letter: "Mueller" as
"muller", "Djordevic" as "dordevic"; kit/names.py), matched where either name is written with ä ö ü ø å or
đ, so that mixed spellings (Djordevic, Odegaard) match the name written with the letters; and the other
spelling's keys of names with ø or å, now written two ways too (ø as o or oe, å as a or aa)

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-23 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_COLUMNS = ("match_surname_fold", "match_forename_fold", "match_joined_fold")


def upgrade() -> None:
    with op.batch_alter_table("nominal", schema=None) as batch_op:
        for name in _COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=100), nullable=False, server_default=""))
    _fill_keys()
    with op.batch_alter_table("nominal", schema=None) as batch_op:
        for name in _COLUMNS:
            batch_op.alter_column(name, existing_type=sa.String(length=100), server_default=None)


def _fill_keys() -> None:
    # As 0019 did: a name's folded keys are its first keys unless its letters hold a written-out pair, so
    # every row gets its first keys in one statement; then each row whose keys differ from what an import
    # would now store (a pair to fold, or ø or å, which now give an other spelling) is recomputed and
    # updated. Only names with letters outside ASCII can have other keys, and only letters holding a pair
    # (punctuation aside: "Ju-ergen" runs together as "juergen") can fold.
    from custodes.kit.names import fold_match_keys, match_keys, other_match_keys

    connection = op.get_bind()
    connection.execute(
        sa.text(
            "UPDATE nominal SET match_surname_fold = match_surname, match_forename_fold = match_forename,"
            " match_joined_fold = match_joined"
        )
    )
    rows = connection.execute(
        sa.text(
            "SELECT subject_id, surname, forenames, match_surname, match_forename, match_joined,"
            " match_surname_other, match_forename_other, match_joined_other FROM nominal"
        )
    ).all()
    names = ("surname", "forename", "joined", "surname_other", "forename_other", "joined_other")
    pairs = ("ae", "oe", "ue", "aa", "dj")
    changed = []
    for subject_id, surname, forenames, *stored in rows:
        plain = (surname or "").isascii() and (forenames or "").isascii()
        letters = [
            "".join(ch for ch in (part or "").lower() if ch.isalpha()) for part in (surname, forenames)
        ]
        if plain and not any(pair in part for part in letters for pair in pairs):
            continue
        keys = (*match_keys(surname, forenames), *other_match_keys(surname, forenames))
        folded = fold_match_keys(surname, forenames)
        if tuple(stored) != keys or folded != keys[:3]:
            values = dict(zip(names, keys, strict=True))
            values |= dict(zip(("surname_fold", "forename_fold", "joined_fold"), folded, strict=True))
            changed.append(values | {"subject_id": subject_id})
    if changed:
        connection.execute(
            sa.text(
                "UPDATE nominal SET match_surname = :surname, match_forename = :forename,"
                " match_joined = :joined, match_surname_other = :surname_other,"
                " match_forename_other = :forename_other, match_joined_other = :joined_other,"
                " match_surname_fold = :surname_fold, match_forename_fold = :forename_fold,"
                " match_joined_fold = :joined_fold WHERE subject_id = :subject_id"
            ),
            changed,
        )


def downgrade() -> None:
    with op.batch_alter_table("nominal", schema=None) as batch_op:
        for name in reversed(_COLUMNS):
            batch_op.drop_column(name)
