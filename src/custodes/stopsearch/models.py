"""Stop-search tables. The records themselves are Parquet files (store.py); these say which are current."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from custodes.kit.db import Base, UTCDateTime


class StopSearchMonth(Base):
    """One force-month of records as last imported: re-importing the month points this at a new file."""

    __tablename__ = "stopsearch_month"
    __table_args__ = (UniqueConstraint("force", "month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    force: Mapped[str] = mapped_column(String(64), index=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM of the source file (its name, --month, file_name)
    records: Mapped[int] = mapped_column(Integer)
    person_searches: Mapped[int] = mapped_column(Integer)
    source_name: Mapped[str] = mapped_column(String(300))
    source_sha256: Mapped[str] = mapped_column(String(64))
    data_file: Mapped[str] = mapped_column(String(200))  # Parquet file name in the force's folder
    vocabulary: Mapped[str] = mapped_column(String(8))  # outcome vocabulary: old, new, mixed, none
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    imported_by: Mapped[str] = mapped_column(String(64))


class PopulationFigure(Base):
    """Residents of a police force area in an ethnic group, by census."""

    __tablename__ = "stopsearch_population"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)  # force/census/group
    force: Mapped[str] = mapped_column(String(64), index=True)
    census: Mapped[str] = mapped_column(String(16))
    group: Mapped[str] = mapped_column(String(16))
    population: Mapped[int] = mapped_column(Integer)


class GroundsSample(Base):
    """A reproducible random sample of searches drawn for supervisors to review."""

    __tablename__ = "stopsearch_sample"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    force: Mapped[str] = mapped_column(String(64), index=True)
    period_from: Mapped[str] = mapped_column(String(7))
    period_to: Mapped[str] = mapped_column(String(7))
    size: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    stratify: Mapped[str | None] = mapped_column(String(16))
    population_size: Mapped[int] = mapped_column(Integer)  # person searches it was drawn from
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime)
    drawn_by: Mapped[str] = mapped_column(String(64))


class GroundsReview(Base):
    """One sampled search, a copy of its record, and the supervisor's finding once reviewed."""

    __tablename__ = "stopsearch_review"
    __table_args__ = (UniqueConstraint("sample_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sample_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("stopsearch_sample.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)  # 1.. within the sample
    record_key: Mapped[str] = mapped_column(String(100))  # force/source-month/line
    month: Mapped[str] = mapped_column(String(7))
    ethnic_group: Mapped[str] = mapped_column(String(16))
    team: Mapped[str | None] = mapped_column(String(64))
    record: Mapped[str] = mapped_column(Text)  # the record as imported (canonical JSON)
    grounds_recorded: Mapped[bool | None] = mapped_column(Boolean)
    grounds_strong: Mapped[bool | None] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PublishedReport(Base):
    """A report as published: the exact JSON, HTML and PDF, fixed at publication."""

    __tablename__ = "stopsearch_publication"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    force: Mapped[str] = mapped_column(String(64), index=True)
    period_from: Mapped[str] = mapped_column(String(7))
    period_to: Mapped[str] = mapped_column(String(7))
    ethnicity: Mapped[str] = mapped_column(String(8))
    census: Mapped[str] = mapped_column(String(16))
    report_json: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))  # of the PDF
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_by: Mapped[str] = mapped_column(String(64))
