"""Workforce tables."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from custodes.kit.db import Base, UTCDateTime


class Staff(Base):
    """A member of the workforce. Roles and log-in live in identity; this is the personnel record."""

    __tablename__ = "staff"

    staff_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    surname: Mapped[str] = mapped_column(String(100), index=True)
    forenames: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    team_id: Mapped[str | None] = mapped_column(String(32), index=True)
    area_code: Mapped[str | None] = mapped_column(String(8), index=True)
    line_manager_id: Mapped[str | None] = mapped_column(String(32), index=True)
    home_postcode: Mapped[str | None] = mapped_column(String(10))
    home_lat: Mapped[float | None] = mapped_column(Float)
    home_lon: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
