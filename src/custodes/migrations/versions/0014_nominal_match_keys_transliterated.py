"""nominal: the match keys recomputed, now that letters with no accent decomposition (ł, ø, ı, đ, æ, ß, þ)
are transliterated instead of dropped (kit/names.py); no schema change

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nominal imported before kept the keys of a name with those letters deleted ("Wałęsa" as "wasa"):
    # the detectors and the casework queries compare the stored keys with keys computed afresh, so each
    # row whose keys now differ is updated, as an import would fill it. Names in plain ASCII keep theirs.
    from custodes.kit.names import match_keys

    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT subject_id, surname, forenames, match_surname, match_forename, match_joined FROM nominal"
        )
    )
    changed = []
    for subject_id, surname, forenames, *stored in rows:
        if (surname or "").isascii() and (forenames or "").isascii():
            continue
        keys = match_keys(surname, forenames)
        if tuple(stored) != keys:
            changed.append(
                dict(zip(("surname", "forename", "joined"), keys, strict=True)) | {"subject_id": subject_id}
            )
    if changed:
        connection.execute(
            sa.text(
                "UPDATE nominal SET match_surname = :surname, match_forename = :forename, "
                "match_joined = :joined WHERE subject_id = :subject_id"
            ),
            changed,
        )


def downgrade() -> None:
    # The keys stay as computed: the earlier code reads them as it reads any key (a name with those letters
    # matches as transliterated until it is imported again).
    pass
