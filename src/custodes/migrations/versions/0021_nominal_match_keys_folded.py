"""nominal: folded match keys (kit/names.py fold_match_keys: the letters with every written-out ae oe ue aa
dj read as its plain letter, "=", then the letters as typed with "%" after each ä ö ü ø å or đ: "Mueller"
as "muller=mueller", "Hoey-Müller" as "hoymuller=hoeymu%ller"), matched by LIKE letter by letter, so that
mixed spellings (Djordevic, Odegaard) match the name written with the letters while its other letters are
compared as typed; and the other spelling's keys of names with ø or å, now written two ways too (ø as o or
oe, å as a or aa)

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
            batch_op.add_column(sa.Column(name, sa.String(length=400), nullable=False, server_default=""))
    _fill_keys()
    with op.batch_alter_table("nominal", schema=None) as batch_op:
        for name in _COLUMNS:
            batch_op.alter_column(name, existing_type=sa.String(length=400), server_default=None)


def _fill_keys() -> None:
    # Every row gets its folded keys, which every name has and none can be read from the stored first keys
    # (they mark the letters written two ways), computed as an import computes them,
    # a batch at a time; a row with ø or å, which now give an other spelling, also gets its first and other
    # keys recomputed where they differ from what an import would now store.
    from custodes.kit.names import fold_match_keys, match_keys, other_match_keys

    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT subject_id, surname, forenames, match_surname, match_forename, match_joined,"
            " match_surname_other, match_forename_other, match_joined_other FROM nominal"
        )
    ).all()
    names = ("surname", "forename", "joined", "surname_other", "forename_other", "joined_other")
    folds, changed = [], []
    for subject_id, surname, forenames, *stored in rows:
        folded = dict(
            zip(
                ("surname_fold", "forename_fold", "joined_fold"),
                fold_match_keys(surname, forenames),
                strict=True,
            )
        )
        folds.append(folded | {"subject_id": subject_id})
        if (surname or "").isascii() and (forenames or "").isascii():
            continue
        keys = (*match_keys(surname, forenames), *other_match_keys(surname, forenames))
        if tuple(stored) != keys:
            changed.append(dict(zip(names, keys, strict=True)) | {"subject_id": subject_id})
    for start in range(0, len(folds), 5000):
        connection.execute(
            sa.text(
                "UPDATE nominal SET match_surname_fold = :surname_fold, match_forename_fold = :forename_fold,"
                " match_joined_fold = :joined_fold WHERE subject_id = :subject_id"
            ),
            folds[start : start + 5000],
        )
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
