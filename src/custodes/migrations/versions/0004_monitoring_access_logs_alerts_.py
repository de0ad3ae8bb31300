"""monitoring access logs alerts investigations

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 08:53:50.983034
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import custodes.kit.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_ingest",
        sa.Column("ingest_id", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("files", sa.Text(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ingest_id", name=op.f("pk_access_ingest")),
    )
    with op.batch_alter_table("access_ingest", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_ingest_at"), ["at"], unique=False)

    op.create_table(
        "investigation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("outcome_reason", sa.Text(), nullable=True),
        sa.Column("opened_by", sa.String(length=32), nullable=False),
        sa.Column("opened_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=32), nullable=True),
        sa.Column("closed_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_investigation")),
        sa.UniqueConstraint("reference", name=op.f("uq_investigation_reference")),
    )
    with op.batch_alter_table("investigation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_investigation_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "monitor_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("window_from", custodes.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("window_to", custodes.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("about_people", sa.Integer(), nullable=False),
        sa.Column("explained", sa.Integer(), nullable=False),
        sa.Column("explained_by", sa.Text(), nullable=False),
        sa.Column("alerts", sa.Integer(), nullable=False),
        sa.Column("at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_run")),
    )
    with op.batch_alter_table("monitor_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitor_run_at"), ["at"], unique=False)

    op.create_table(
        "access_batch",
        sa.Column("batch_id", sa.String(length=48), nullable=False),
        sa.Column("ingest_id", sa.String(length=40), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("first_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ingest_id"], ["access_ingest.ingest_id"], name=op.f("fk_access_batch_ingest_id_access_ingest")
        ),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_access_batch")),
    )
    with op.batch_alter_table("access_batch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_batch_ingest_id"), ["ingest_id"], unique=False)

    op.create_table(
        "access_quarantine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ingest_id", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ingest_id"],
            ["access_ingest.ingest_id"],
            name=op.f("fk_access_quarantine_ingest_id_access_ingest"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_quarantine")),
    )
    with op.batch_alter_table("access_quarantine", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_quarantine_ingest_id"), ["ingest_id"], unique=False)

    op.create_table(
        "alert",
        sa.Column("alert_id", sa.String(length=40), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=True),
        sa.Column("rules", sa.String(length=300), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("first_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("dismissal_reason", sa.Text(), nullable=True),
        sa.Column("triaged_by", sa.String(length=32), nullable=True),
        sa.Column("triaged_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("investigation_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("created_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["investigation_id"], ["investigation.id"], name=op.f("fk_alert_investigation_id_investigation")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["monitor_run.id"], name=op.f("fk_alert_run_id_monitor_run")),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_alert")),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_investigation_id"), ["investigation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_staff_id"), ["staff_id"], unique=False)
        batch_op.create_index("ix_alert_status_score", ["status", "score"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "investigation_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("investigation_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["investigation_id"],
            ["investigation.id"],
            name=op.f("fk_investigation_note_investigation_id_investigation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_investigation_note")),
    )
    with op.batch_alter_table("investigation_note", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_investigation_note_investigation_id"), ["investigation_id"], unique=False
        )

    op.create_table(
        "alert_event",
        sa.Column("alert_id", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("occurred_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("system", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("case_ref", sa.String(length=64), nullable=True),
        sa.Column("rules", sa.String(length=300), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.String(length=48), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alert.alert_id"], name=op.f("fk_alert_event_alert_id_alert")),
        sa.PrimaryKeyConstraint("alert_id", "event_id", name=op.f("pk_alert_event")),
    )
    op.create_table(
        "identity_reveal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.String(length=40), nullable=False),
        sa.Column("revealed_to", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alert.alert_id"], name=op.f("fk_identity_reveal_alert_id_alert")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_reveal")),
    )
    with op.batch_alter_table("identity_reveal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_reveal_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_identity_reveal_revealed_to"), ["revealed_to"], unique=False)

    # A register already holding nominals: the new NOT NULL columns need a default to be added (SQLite
    # refuses otherwise), are filled as the import would have filled them, and then lose the default.
    match_columns = ("match_surname", "match_forename", "match_joined")
    with op.batch_alter_table("nominal", schema=None) as batch_op:
        for name in match_columns:
            batch_op.add_column(sa.Column(name, sa.String(length=100), nullable=False, server_default=""))
    _fill_match_keys()
    with op.batch_alter_table("nominal", schema=None) as batch_op:
        for name in match_columns:
            batch_op.alter_column(name, existing_type=sa.String(length=100), server_default=None)


def _fill_match_keys() -> None:
    from custodes.kit.names import match_keys

    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT subject_id, surname, forenames FROM nominal")).all()
    if rows:
        connection.execute(
            sa.text(
                "UPDATE nominal SET match_surname = :surname, match_forename = :forename, "
                "match_joined = :joined WHERE subject_id = :subject_id"
            ),
            [
                dict(zip(("surname", "forename", "joined"), match_keys(surname, forenames), strict=True))
                | {"subject_id": subject_id}
                for subject_id, surname, forenames in rows
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("nominal", schema=None) as batch_op:
        batch_op.drop_column("match_joined")
        batch_op.drop_column("match_forename")
        batch_op.drop_column("match_surname")

    with op.batch_alter_table("identity_reveal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_reveal_revealed_to"))
        batch_op.drop_index(batch_op.f("ix_identity_reveal_alert_id"))

    op.drop_table("identity_reveal")
    op.drop_table("alert_event")
    with op.batch_alter_table("investigation_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_investigation_note_investigation_id"))

    op.drop_table("investigation_note")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_subject_id"))
        batch_op.drop_index("ix_alert_status_score")
        batch_op.drop_index(batch_op.f("ix_alert_staff_id"))
        batch_op.drop_index(batch_op.f("ix_alert_investigation_id"))

    op.drop_table("alert")
    with op.batch_alter_table("access_quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_quarantine_ingest_id"))

    op.drop_table("access_quarantine")
    with op.batch_alter_table("access_batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_batch_ingest_id"))

    op.drop_table("access_batch")
    with op.batch_alter_table("monitor_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitor_run_at"))

    op.drop_table("monitor_run")
    with op.batch_alter_table("investigation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_investigation_staff_id"))

    op.drop_table("investigation")
    with op.batch_alter_table("access_ingest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_ingest_at"))

    op.drop_table("access_ingest")
