"""Learning-register tables: recommendations, their actions, and the controls that answer them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from custodes.kit.db import Base, UTCDateTime


class Recommendation(Base):
    """An IOPC learning recommendation, an HMICFRS area for improvement, or an internal review's finding."""

    __tablename__ = "learning_recommendation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_kind: Mapped[str] = mapped_column(String(16), index=True)
    source_reference: Mapped[str] = mapped_column(String(200))
    issued_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    accepted: Mapped[str] = mapped_column(String(8))  # yes, no, partly
    reason: Mapped[str | None] = mapped_column(Text)  # why not (or not wholly) accepted, and the response
    status: Mapped[str] = mapped_column(String(16), index=True)
    evidence: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RecommendationControl(Base):
    """A control of Custodes (learning.controls.CONTROLS) that answers the recommendation."""

    __tablename__ = "learning_control_link"

    recommendation_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("learning_recommendation.id", ondelete="CASCADE"), primary_key=True
    )
    control_code: Mapped[str] = mapped_column(String(48), primary_key=True, index=True)


class LearningAction(Base):
    """Something to do about a recommendation, with its owner (a member of staff) and due date."""

    __tablename__ = "learning_action"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recommendation_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("learning_recommendation.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    owner_staff_id: Mapped[str] = mapped_column(String(32), index=True)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16))  # open, done
    completed_on: Mapped[date | None] = mapped_column(Date)
    evidence: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
