"""workforce integrity

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 06:09:11.273526
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import custodes.kit.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learning_recommendation",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_kind", sa.String(length=16), nullable=False),
        sa.Column("source_reference", sa.String(length=200), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("accepted", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("created_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_recommendation")),
    )
    with op.batch_alter_table("learning_recommendation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_learning_recommendation_source_kind"), ["source_kind"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_learning_recommendation_status"), ["status"], unique=False)

    op.create_table(
        "referral",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("manager_id", sa.String(length=32), nullable=True),
        sa.Column("system", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=True),
        sa.Column("subject_name", sa.String(length=210), nullable=True),
        sa.Column("subject_date_of_birth", sa.Date(), nullable=True),
        sa.Column("subject_postcode", sa.String(length=10), nullable=True),
        sa.Column("purpose", sa.String(length=200), nullable=True),
        sa.Column("case_ref", sa.String(length=64), nullable=True),
        sa.Column("codes", sa.String(length=100), nullable=False),
        sa.Column("declaration_ids", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("search_done", sa.Text(), nullable=True),
        sa.Column("interaction", sa.Text(), nullable=True),
        sa.Column("advice", sa.Text(), nullable=True),
        sa.Column("closed_by", sa.String(length=32), nullable=True),
        sa.Column("closed_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral")),
    )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referral_manager_id"), ["manager_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_referral_staff_id"), ["staff_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_referral_status"), ["status"], unique=False)

    op.create_table(
        "learning_action",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner_staff_id", sa.String(length=32), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("created_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["learning_recommendation.id"],
            name=op.f("fk_learning_action_recommendation_id_learning_recommendation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_action")),
    )
    with op.batch_alter_table("learning_action", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_learning_action_due_on"), ["due_on"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_learning_action_owner_staff_id"), ["owner_staff_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_learning_action_recommendation_id"), ["recommendation_id"], unique=False
        )

    op.create_table(
        "learning_control_link",
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("control_code", sa.String(length=48), nullable=False),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["learning_recommendation.id"],
            name=op.f("fk_learning_control_link_recommendation_id_learning_recommendation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("recommendation_id", "control_code", name=op.f("pk_learning_control_link")),
    )
    with op.batch_alter_table("learning_control_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_learning_control_link_control_code"), ["control_code"], unique=False
        )

    with op.batch_alter_table("declaration", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("organisation", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("value_pounds", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("gift_accepted", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("status", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("decided_by", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("decided_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("conditions", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("decision_reasons", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("review_on", sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f("ix_declaration_status"), ["status"], unique=False)

    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ethnicity_group", sa.String(length=8), nullable=True))

    with op.batch_alter_table("vetting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("applied_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vetting", schema=None) as batch_op:
        batch_op.drop_column("applied_on")

    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("ethnicity_group")

    with op.batch_alter_table("declaration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_declaration_status"))
        batch_op.drop_column("review_on")
        batch_op.drop_column("decision_reasons")
        batch_op.drop_column("conditions")
        batch_op.drop_column("decided_at")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("status")
        batch_op.drop_column("gift_accepted")
        batch_op.drop_column("value_pounds")
        batch_op.drop_column("organisation")
        batch_op.drop_column("description")

    with op.batch_alter_table("learning_control_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_learning_control_link_control_code"))

    op.drop_table("learning_control_link")
    with op.batch_alter_table("learning_action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_learning_action_recommendation_id"))
        batch_op.drop_index(batch_op.f("ix_learning_action_owner_staff_id"))
        batch_op.drop_index(batch_op.f("ix_learning_action_due_on"))

    op.drop_table("learning_action")
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_status"))
        batch_op.drop_index(batch_op.f("ix_referral_staff_id"))
        batch_op.drop_index(batch_op.f("ix_referral_manager_id"))

    op.drop_table("referral")
    with op.batch_alter_table("learning_recommendation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_learning_recommendation_status"))
        batch_op.drop_index(batch_op.f("ix_learning_recommendation_source_kind"))

    op.drop_table("learning_recommendation")
