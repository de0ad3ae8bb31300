"""nominal: every match key recomputed as kit/names.py now computes it (the Mac, Mc and M' surname prefix
read as "mc" only before the rest of a name of three letters or more, so Mack is no longer "Mc K", Macey no
longer "Mcey", and M'Donald is McDonald; æ and œ written two ways, as ä and ö are: Sæther's first key is
"sather", its other spelling "saether"; the folded keys mark each written-out second letter with "+",
"Mueller" as "muller=mu+eller", so that each letter is read on its own: Müller-Djordjevic = Mueller-Đorđević)

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-23 22:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_KEYS = (
    "match_surname",
    "match_forename",
    "match_joined",
    "match_surname_other",
    "match_forename_other",
    "match_joined_other",
    "match_surname_fold",
    "match_forename_fold",
    "match_joined_fold",
)


def upgrade() -> None:
    # The keys are computed as an import computes them (one definition, kit/names.py); only the rows whose
    # stored keys differ are written, a batch at a time. No column changes, so downgrading has nothing to
    # undo: the keys stay as this computes them.
    from custodes.kit.names import fold_match_keys, match_keys, other_match_keys

    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT subject_id, surname, forenames, match_surname, match_forename, match_joined,"
            " match_surname_other, match_forename_other, match_joined_other, match_surname_fold,"
            " match_forename_fold, match_joined_fold FROM nominal"
        )
    )
    changed = []
    for subject_id, surname, forenames, *stored in rows:
        keys = (
            *match_keys(surname, forenames),
            *other_match_keys(surname, forenames),
            *fold_match_keys(surname, forenames),
        )
        if tuple(stored) != keys:
            changed.append(dict(zip(_KEYS, keys, strict=True)) | {"subject_id": subject_id})
    for start in range(0, len(changed), 5000):
        connection.execute(
            sa.text(
                "UPDATE nominal SET match_surname = :match_surname, match_forename = :match_forename,"
                " match_joined = :match_joined, match_surname_other = :match_surname_other,"
                " match_forename_other = :match_forename_other, match_joined_other = :match_joined_other,"
                " match_surname_fold = :match_surname_fold, match_forename_fold = :match_forename_fold,"
                " match_joined_fold = :match_joined_fold WHERE subject_id = :subject_id"
            ),
            changed[start : start + 5000],
        )


def downgrade() -> None:
    pass
