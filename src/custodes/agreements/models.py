"""Reference-data tables: partner organisations, sharing agreements (with their document), schemes, members.

Lists (purposes, data categories, lawful bases) are stored `;`-joined, as imports give them; an agreement's
parties are a link table so the register can be asked "which agreements name this organisation".
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from custodes.kit.db import Base, UTCDateTime


class Organisation(Base):
    """A partner: another force, probation, a council, a scheme, a business... (disclosure.md)."""

    __tablename__ = "organisation"

    org_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    competent_authority: Mapped[bool] = mapped_column(Boolean)
    contact: Mapped[str | None] = mapped_column(String(500))
    secure_channel: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Agreement(Base):
    """An information sharing agreement, MOU, DSA or repeat-sharing form."""

    __tablename__ = "agreement"

    agreement_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    purposes: Mapped[str] = mapped_column(Text)
    data_categories: Mapped[str] = mapped_column(Text)
    lawful_bases: Mapped[str] = mapped_column(Text)
    start_date: Mapped[date] = mapped_column(Date)
    review_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    # Set by the data protection unit, with its reason: "suspended" or "withdrawn"; None otherwise.
    manual_status: Mapped[str | None] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_set_by: Mapped[str | None] = mapped_column(String(64))
    status_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgreementParty(Base):
    __tablename__ = "agreement_party"

    agreement_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("agreement.agreement_id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("organisation.org_id"), primary_key=True, index=True
    )


class AgreementDocument(Base):
    """The signed agreement itself (K10 7.2: a copy of the original agreement is kept for inspection)."""

    __tablename__ = "agreement_document"

    agreement_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("agreement.agreement_id", ondelete="CASCADE"), primary_key=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Scheme(Base):
    """A crime-reduction scheme (ShopWatch, PubWatch...) and its approved manager (K10 6.2.1, 7.3)."""

    __tablename__ = "scheme"

    scheme_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    area_code: Mapped[str | None] = mapped_column(String(8), index=True)
    recognised: Mapped[bool] = mapped_column(Boolean)
    manager_name: Mapped[str | None] = mapped_column(String(200))
    manager_vetted_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SchemeMember(Base):
    """A registered member of a scheme: an organisation or an individual (K10 7.2 register of members)."""

    __tablename__ = "scheme_member"

    member_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scheme_id: Mapped[str] = mapped_column(String(32), ForeignKey("scheme.scheme_id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    org_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("organisation.org_id"), index=True)
    registered_on: Mapped[date] = mapped_column(Date)
    undertaking_signed_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgreementReview(Base):
    """A review of an agreement recorded by the DPU: when, by whom, what they decided, and the next review.

    Kept as a table, not read back from the ledger: the ledger's alteration entries hold the changed fields
    as digests and say nothing in words, and the page shows the history on every view."""

    __tablename__ = "agreement_review"

    review_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agreement_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("agreement.agreement_id", ondelete="CASCADE"), index=True
    )
    reviewed_on: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)
    next_review_date: Mapped[date | None] = mapped_column(Date)
    reviewed_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
