"""stop and search

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 11:39:41.351551
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import custodes.kit.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stopsearch_month",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("force", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("person_searches", sa.Integer(), nullable=False),
        sa.Column("source_name", sa.String(length=300), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("data_file", sa.String(length=200), nullable=False),
        sa.Column("vocabulary", sa.String(length=8), nullable=False),
        sa.Column("imported_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stopsearch_month")),
        sa.UniqueConstraint("force", "month", name=op.f("uq_stopsearch_month_force")),
    )
    with op.batch_alter_table("stopsearch_month", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stopsearch_month_force"), ["force"], unique=False)

    op.create_table(
        "stopsearch_population",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("force", sa.String(length=64), nullable=False),
        sa.Column("census", sa.String(length=16), nullable=False),
        sa.Column("group", sa.String(length=16), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_stopsearch_population")),
    )
    with op.batch_alter_table("stopsearch_population", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stopsearch_population_force"), ["force"], unique=False)

    op.create_table(
        "stopsearch_publication",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("force", sa.String(length=64), nullable=False),
        sa.Column("period_from", sa.String(length=7), nullable=False),
        sa.Column("period_to", sa.String(length=7), nullable=False),
        sa.Column("ethnicity", sa.String(length=8), nullable=False),
        sa.Column("census", sa.String(length=16), nullable=False),
        sa.Column("report_json", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("published_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stopsearch_publication")),
        sa.UniqueConstraint("reference", name=op.f("uq_stopsearch_publication_reference")),
    )
    with op.batch_alter_table("stopsearch_publication", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stopsearch_publication_force"), ["force"], unique=False)

    op.create_table(
        "stopsearch_sample",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("force", sa.String(length=64), nullable=False),
        sa.Column("period_from", sa.String(length=7), nullable=False),
        sa.Column("period_to", sa.String(length=7), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("stratify", sa.String(length=16), nullable=True),
        sa.Column("population_size", sa.Integer(), nullable=False),
        sa.Column("drawn_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("drawn_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stopsearch_sample")),
        sa.UniqueConstraint("reference", name=op.f("uq_stopsearch_sample_reference")),
    )
    with op.batch_alter_table("stopsearch_sample", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stopsearch_sample_force"), ["force"], unique=False)

    op.create_table(
        "stopsearch_review",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sample_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("record_key", sa.String(length=100), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("ethnic_group", sa.String(length=16), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=True),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("grounds_recorded", sa.Boolean(), nullable=True),
        sa.Column("grounds_strong", sa.Boolean(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("reviewed_at", custodes.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["sample_id"],
            ["stopsearch_sample.id"],
            name=op.f("fk_stopsearch_review_sample_id_stopsearch_sample"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stopsearch_review")),
        sa.UniqueConstraint("sample_id", "position", name=op.f("uq_stopsearch_review_sample_id")),
    )
    with op.batch_alter_table("stopsearch_review", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stopsearch_review_sample_id"), ["sample_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stopsearch_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stopsearch_review_sample_id"))

    op.drop_table("stopsearch_review")
    with op.batch_alter_table("stopsearch_sample", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stopsearch_sample_force"))

    op.drop_table("stopsearch_sample")
    with op.batch_alter_table("stopsearch_publication", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stopsearch_publication_force"))

    op.drop_table("stopsearch_publication")
    with op.batch_alter_table("stopsearch_population", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stopsearch_population_force"))

    op.drop_table("stopsearch_population")
    with op.batch_alter_table("stopsearch_month", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stopsearch_month_force"))

    op.drop_table("stopsearch_month")
