"""workforce records, registers and disclosures

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 05:44:00.463740
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import custodes.kit.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agreement",
        sa.Column("agreement_id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("purposes", sa.Text(), nullable=False),
        sa.Column("data_categories", sa.Text(), nullable=False),
        sa.Column("lawful_bases", sa.Text(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("review_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("manual_status", sa.String(length=16), nullable=True),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("status_set_by", sa.String(length=64), nullable=True),
        sa.Column("status_set_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("agreement_id", name=op.f("pk_agreement")),
    )
    op.create_table(
        "case_record",
        sa.Column("case_ref", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("opened_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("assigned_staff", sa.Text(), nullable=False),
        sa.Column("subject_ids", sa.Text(), nullable=False),
        sa.Column("created_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_ref", name=op.f("pk_case_record")),
    )
    with op.batch_alter_table("case_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_record_team_id"), ["team_id"], unique=False)

    op.create_table(
        "case_staff",
        sa.Column("case_ref", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("case_ref", "staff_id", name=op.f("pk_case_staff")),
    )
    with op.batch_alter_table("case_staff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_staff_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "case_subject",
        sa.Column("case_ref", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("case_ref", "subject_id", name=op.f("pk_case_subject")),
    )
    with op.batch_alter_table("case_subject", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_subject_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "course",
        sa.Column("course_code", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("mandatory_for", sa.String(length=200), nullable=False),
        sa.Column("validity_months", sa.Integer(), nullable=True),
        sa.Column("gates", sa.String(length=100), nullable=False),
        sa.Column("created_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("course_code", name=op.f("pk_course")),
    )
    op.create_table(
        "declaration",
        sa.Column("declaration_id", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=True),
        sa.Column("surname", sa.String(length=100), nullable=True),
        sa.Column("forenames", sa.String(length=100), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("postcode", sa.String(length=10), nullable=True),
        sa.Column("relationship", sa.String(length=16), nullable=True),
        sa.Column("declared_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("declaration_id", name=op.f("pk_declaration")),
    )
    with op.batch_alter_table("declaration", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_declaration_staff_id"), ["staff_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_declaration_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "disclosure",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(length=24), nullable=True),
        sa.Column("route", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("area_code", sa.String(length=8), nullable=False),
        sa.Column("requested_by", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=True),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("authorised_by", sa.String(length=32), nullable=True),
        sa.Column("authorised_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refused_by", sa.String(length=32), nullable=True),
        sa.Column("refused_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refusal_reason", sa.Text(), nullable=True),
        sa.Column("released_by", sa.String(length=32), nullable=True),
        sa.Column("released_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("review_due", sa.Date(), nullable=True),
        sa.Column("completion_due", custodes.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("legal_hold", sa.Text(), nullable=True),
        sa.Column("erased_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure")),
        sa.UniqueConstraint("reference", name=op.f("uq_disclosure_reference")),
    )
    with op.batch_alter_table("disclosure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disclosure_area_code"), ["area_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_disclosure_requested_by"), ["requested_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_disclosure_review_due"), ["review_due"], unique=False)
        batch_op.create_index(batch_op.f("ix_disclosure_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_disclosure_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "disclosure_correction",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reported_by", sa.String(length=32), nullable=False),
        sa.Column("reported_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("system", sa.String(length=64), nullable=True),
        sa.Column("record_id", sa.String(length=200), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("correct_text", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_correction")),
    )
    op.create_table(
        "disclosure_reference_counter",
        sa.Column("area_code", sa.String(length=8), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("area_code", name=op.f("pk_disclosure_reference_counter")),
    )
    op.create_table(
        "disposal_run",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_by", sa.String(length=32), nullable=False),
        sa.Column("run_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("erased", sa.Integer(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("redacted_entries", sa.Integer(), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disposal_run")),
    )
    op.create_table(
        "nominal",
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("surname", sa.String(length=100), nullable=False),
        sa.Column("forenames", sa.String(length=100), nullable=False),
        sa.Column("surname_key", sa.String(length=100), nullable=False),
        sa.Column("forenames_key", sa.String(length=100), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("postcode", sa.String(length=10), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("flags", sa.String(length=400), nullable=False),
        sa.Column("public_figure", sa.Boolean(), nullable=False),
        sa.Column("protected", sa.Boolean(), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_nominal")),
    )
    with op.batch_alter_table("nominal", schema=None) as batch_op:
        batch_op.create_index("ix_nominal_name_key", ["surname_key", "forenames_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_nominal_postcode"), ["postcode"], unique=False)
        batch_op.create_index(batch_op.f("ix_nominal_protected"), ["protected"], unique=False)
        batch_op.create_index(batch_op.f("ix_nominal_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "organisation",
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("competent_authority", sa.Boolean(), nullable=False),
        sa.Column("contact", sa.String(length=500), nullable=True),
        sa.Column("secure_channel", sa.String(length=500), nullable=True),
        sa.Column("created_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_organisation")),
    )
    op.create_table(
        "retention_rule",
        sa.Column("record_type", sa.String(length=32), nullable=False),
        sa.Column("keep_days", sa.Integer(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("changed_by", sa.String(length=32), nullable=False),
        sa.Column("changed_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("record_type", name=op.f("pk_retention_rule")),
    )
    op.create_table(
        "roster_period",
        sa.Column("roster_key", sa.String(length=80), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("starts_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("roster_key", name=op.f("pk_roster_period")),
    )
    with op.batch_alter_table("roster_period", schema=None) as batch_op:
        batch_op.create_index("ix_roster_period_staff_start", ["staff_id", "starts_at"], unique=False)

    op.create_table(
        "scheme",
        sa.Column("scheme_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("area_code", sa.String(length=8), nullable=True),
        sa.Column("recognised", sa.Boolean(), nullable=False),
        sa.Column("manager_name", sa.String(length=200), nullable=True),
        sa.Column("manager_vetted_until", sa.Date(), nullable=True),
        sa.Column("created_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scheme_id", name=op.f("pk_scheme")),
    )
    with op.batch_alter_table("scheme", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scheme_area_code"), ["area_code"], unique=False)

    op.create_table(
        "training_completion",
        sa.Column("training_key", sa.String(length=80), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("course_code", sa.String(length=32), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("created_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("training_key", name=op.f("pk_training_completion")),
    )
    with op.batch_alter_table("training_completion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_completion_course_code"), ["course_code"], unique=False)
        batch_op.create_index(
            "ix_training_completion_staff_course", ["staff_id", "course_code"], unique=False
        )

    op.create_table(
        "vetting",
        sa.Column("vetting_key", sa.String(length=80), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("created_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("vetting_key", name=op.f("pk_vetting")),
    )
    with op.batch_alter_table("vetting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vetting_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "agreement_document",
        sa.Column("agreement_id", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreement.agreement_id"],
            name=op.f("fk_agreement_document_agreement_id_agreement"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agreement_id", name=op.f("pk_agreement_document")),
    )
    op.create_table(
        "agreement_party",
        sa.Column("agreement_id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreement.agreement_id"],
            name=op.f("fk_agreement_party_agreement_id_agreement"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.org_id"], name=op.f("fk_agreement_party_org_id_organisation")
        ),
        sa.PrimaryKeyConstraint("agreement_id", "org_id", name=op.f("pk_agreement_party")),
    )
    with op.batch_alter_table("agreement_party", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agreement_party_org_id"), ["org_id"], unique=False)

    op.create_table(
        "disclosed_source",
        sa.Column("disclosure_id", sa.Integer(), nullable=False),
        sa.Column("item_number", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=200), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["disclosure_id"], ["disclosure.id"], name=op.f("fk_disclosed_source_disclosure_id_disclosure")
        ),
        sa.PrimaryKeyConstraint("disclosure_id", "item_number", name=op.f("pk_disclosed_source")),
    )
    with op.batch_alter_table("disclosed_source", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disclosed_source_content_sha256"), ["content_sha256"], unique=False
        )
        batch_op.create_index("ix_disclosed_source_record", ["system", "record_id"], unique=False)

    op.create_table(
        "disclosure_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("disclosure_id", sa.Integer(), nullable=False),
        sa.Column("at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["disclosure_id"], ["disclosure.id"], name=op.f("fk_disclosure_event_disclosure_id_disclosure")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_event")),
    )
    with op.batch_alter_table("disclosure_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disclosure_event_disclosure_id"), ["disclosure_id"], unique=False
        )

    op.create_table(
        "disclosure_notice",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("disclosure_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.String(length=64), nullable=False),
        sa.Column("correction_id", sa.Integer(), nullable=True),
        sa.Column("issued_by", sa.String(length=32), nullable=False),
        sa.Column("issued_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["correction_id"],
            ["disclosure_correction.id"],
            name=op.f("fk_disclosure_notice_correction_id_disclosure_correction"),
        ),
        sa.ForeignKeyConstraint(
            ["disclosure_id"], ["disclosure.id"], name=op.f("fk_disclosure_notice_disclosure_id_disclosure")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_notice")),
        sa.UniqueConstraint(
            "kind", "correction_id", "disclosure_id", "recipient_id", name=op.f("uq_disclosure_notice_kind")
        ),
    )
    with op.batch_alter_table("disclosure_notice", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disclosure_notice_correction_id"), ["correction_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_disclosure_notice_disclosure_id"), ["disclosure_id"], unique=False
        )

    op.create_table(
        "disclosure_recipient",
        sa.Column("disclosure_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("undertaking_signed_on", sa.Date(), nullable=True),
        sa.Column("receipt_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["disclosure_id"],
            ["disclosure.id"],
            name=op.f("fk_disclosure_recipient_disclosure_id_disclosure"),
        ),
        sa.PrimaryKeyConstraint("disclosure_id", "recipient_id", name=op.f("pk_disclosure_recipient")),
    )
    op.create_table(
        "disclosure_review",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("disclosure_id", sa.Integer(), nullable=False),
        sa.Column("reviewed_by", sa.String(length=32), nullable=False),
        sa.Column("reviewed_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("next_review", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["disclosure_id"], ["disclosure.id"], name=op.f("fk_disclosure_review_disclosure_id_disclosure")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_review")),
    )
    with op.batch_alter_table("disclosure_review", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disclosure_review_disclosure_id"), ["disclosure_id"], unique=False
        )

    op.create_table(
        "scheme_member",
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("scheme_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=True),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("undertaking_signed_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.org_id"], name=op.f("fk_scheme_member_org_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["scheme_id"], ["scheme.scheme_id"], name=op.f("fk_scheme_member_scheme_id_scheme")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_scheme_member")),
    )
    with op.batch_alter_table("scheme_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scheme_member_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scheme_member_scheme_id"), ["scheme_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scheme_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scheme_member_scheme_id"))
        batch_op.drop_index(batch_op.f("ix_scheme_member_org_id"))

    op.drop_table("scheme_member")
    with op.batch_alter_table("disclosure_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disclosure_review_disclosure_id"))

    op.drop_table("disclosure_review")
    op.drop_table("disclosure_recipient")
    with op.batch_alter_table("disclosure_notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disclosure_notice_disclosure_id"))
        batch_op.drop_index(batch_op.f("ix_disclosure_notice_correction_id"))

    op.drop_table("disclosure_notice")
    with op.batch_alter_table("disclosure_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disclosure_event_disclosure_id"))

    op.drop_table("disclosure_event")
    with op.batch_alter_table("disclosed_source", schema=None) as batch_op:
        batch_op.drop_index("ix_disclosed_source_record")
        batch_op.drop_index(batch_op.f("ix_disclosed_source_content_sha256"))

    op.drop_table("disclosed_source")
    with op.batch_alter_table("agreement_party", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_party_org_id"))

    op.drop_table("agreement_party")
    op.drop_table("agreement_document")
    with op.batch_alter_table("vetting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vetting_staff_id"))

    op.drop_table("vetting")
    with op.batch_alter_table("training_completion", schema=None) as batch_op:
        batch_op.drop_index("ix_training_completion_staff_course")
        batch_op.drop_index(batch_op.f("ix_training_completion_course_code"))

    op.drop_table("training_completion")
    with op.batch_alter_table("scheme", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scheme_area_code"))

    op.drop_table("scheme")
    with op.batch_alter_table("roster_period", schema=None) as batch_op:
        batch_op.drop_index("ix_roster_period_staff_start")

    op.drop_table("roster_period")
    op.drop_table("retention_rule")
    op.drop_table("organisation")
    with op.batch_alter_table("nominal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nominal_staff_id"))
        batch_op.drop_index(batch_op.f("ix_nominal_protected"))
        batch_op.drop_index(batch_op.f("ix_nominal_postcode"))
        batch_op.drop_index("ix_nominal_name_key")

    op.drop_table("nominal")
    op.drop_table("disposal_run")
    op.drop_table("disclosure_reference_counter")
    op.drop_table("disclosure_correction")
    with op.batch_alter_table("disclosure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disclosure_subject_id"))
        batch_op.drop_index(batch_op.f("ix_disclosure_status"))
        batch_op.drop_index(batch_op.f("ix_disclosure_review_due"))
        batch_op.drop_index(batch_op.f("ix_disclosure_requested_by"))
        batch_op.drop_index(batch_op.f("ix_disclosure_area_code"))

    op.drop_table("disclosure")
    with op.batch_alter_table("declaration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_declaration_subject_id"))
        batch_op.drop_index(batch_op.f("ix_declaration_staff_id"))

    op.drop_table("declaration")
    op.drop_table("course")
    with op.batch_alter_table("case_subject", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_subject_subject_id"))

    op.drop_table("case_subject")
    with op.batch_alter_table("case_staff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_staff_staff_id"))

    op.drop_table("case_staff")
    with op.batch_alter_table("case_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_record_team_id"))

    op.drop_table("case_record")
    op.drop_table("agreement")
