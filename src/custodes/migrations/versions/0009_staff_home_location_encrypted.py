"""staff home postcode and location encrypted at rest (AES-256-GCM, kit/crypto.py)

The values already stored are read, the columns become binary, and the values are written back encrypted
with the data key attached to the engine (`custodes init` creates the key file before it migrates). With
no key, a database holding home locations is left as it was and the upgrade stops with KeyMissing; an
empty or location-free database needs no key. Downgrade decrypts them back into clear columns.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from custodes.kit.crypto import EncryptedFloat, EncryptedString, cipher_for

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_COLUMNS = ("home_postcode", "home_lat", "home_lon")
_CLEAR: dict[str, Any] = {
    "home_postcode": sa.String(length=10),
    "home_lat": sa.Float(),
    "home_lon": sa.Float(),
}
_CLEAR_POSTGRESQL = {
    "home_postcode": "varchar(10)",
    "home_lat": "double precision",
    "home_lon": "double precision",
}
_SEALED: dict[str, Any] = {
    "home_postcode": EncryptedString("staff.home_postcode"),
    "home_lat": EncryptedFloat("staff.home_lat"),
    "home_lon": EncryptedFloat("staff.home_lon"),
}


def _staff(types: dict[str, Any]) -> sa.TableClause:
    return sa.table("staff", sa.column("staff_id", sa.String()), *(sa.column(c, types[c]) for c in _COLUMNS))


def _convert(encrypt: bool) -> None:
    """Read every stored location, empty the columns, change their type, write the values back: encrypted
    by the types of _SEALED on the way up, decrypted by them on the way down."""
    bind = op.get_bind()
    old = _staff(_CLEAR if encrypt else _SEALED)
    held = sa.or_(*(old.c[c].is_not(None) for c in _COLUMNS))
    rows = [dict(row._mapping) for row in bind.execute(sa.select(old).where(held))]
    if rows:
        cipher_for(bind)  # no key: stop (KeyMissing) before anything changes
        bind.execute(sa.update(old).values(dict.fromkeys(_COLUMNS)))
    with op.batch_alter_table("staff", schema=None) as batch_op:
        for name in _COLUMNS:
            batch_op.alter_column(
                name,
                existing_type=_CLEAR[name] if encrypt else sa.LargeBinary(),
                type_=sa.LargeBinary() if encrypt else _CLEAR[name],
                existing_nullable=True,
                postgresql_using=f"NULL::{'bytea' if encrypt else _CLEAR_POSTGRESQL[name]}",
            )
    if rows:
        new = _staff(_SEALED if encrypt else _CLEAR)
        statement = (
            sa.update(new)
            .where(new.c.staff_id == sa.bindparam("b_staff_id"))
            .values({c: sa.bindparam(f"b_{c}") for c in _COLUMNS})
        )
        bind.execute(statement, [{f"b_{k}": v for k, v in row.items()} for row in rows])


def upgrade() -> None:
    _convert(encrypt=True)


def downgrade() -> None:
    _convert(encrypt=False)
