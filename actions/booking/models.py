"""The bookings database (SQLAlchemy 1.4, 2.0 style). Schema changes go through Alembic
(``actions/booking/migrations``); ``tests`` check that the migrations and these models agree.

Capacity is enforced by ``SlotCounter``: one row per (date, time) with ``capacity`` and
``booked``, a CHECK ``booked <= capacity``, and the booking service taking a place with the atomic
``UPDATE slot_counters SET booked = booked + 1 WHERE ... AND booked < capacity`` in the same
transaction that inserts the booking. The row lock taken by that UPDATE serialises concurrent
bookings of one slot on PostgreSQL; SQLite serialises all writers anyway (``BEGIN IMMEDIATE``,
see ``db.py``). So two requests can never both take the last place.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    TypeDecorator,
)
from sqlalchemy.orm import Mapped, declarative_base

from actions.clock import SHANGHAI

BOOKED = "booked"
CANCELLED = "cancelled"
ATTENDED = "attended"
NO_SHOW = "no_show"
STATUSES = (BOOKED, CANCELLED, ATTENDED, NO_SHOW)
UNKNOWN = "unknown"  # matter type or channel not known, in the anonymous statistics

# Explicit constraint names: Alembic needs them to alter or drop constraints (SQLite batch mode).
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
Base = declarative_base(metadata=metadata)


class AwareDateTime(TypeDecorator):
    """Timestamps stored in UTC and read back as Asia/Shanghai aware datetimes.

    SQLite has no time zones; storing UTC everywhere keeps both databases comparable.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[dt.datetime], dialect) -> Optional[dt.datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to an AwareDateTime column")
        utc = value.astimezone(dt.timezone.utc)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Optional[dt.datetime], dialect) -> Optional[dt.datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(SHANGHAI)


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES!r}", name="status"),
        Index("ix_bookings_date_time", "date", "time"),
        Index("ix_bookings_phone_status", "phone", "status"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    code: Mapped[str] = Column(String(6), nullable=False, unique=True)
    date: Mapped[dt.date] = Column(Date, nullable=False)
    time: Mapped[dt.time] = Column(Time, nullable=False)
    name: Mapped[str] = Column(String(32), nullable=False)
    phone: Mapped[str] = Column(String(11), nullable=False)
    matter_summary: Mapped[str] = Column(String(200), nullable=False)
    matter_type: Mapped[Optional[str]] = Column(String(32))
    statutory_channel: Mapped[Optional[str]] = Column(String(32))
    status: Mapped[str] = Column(String(16), nullable=False, default=BOOKED)
    conversation_id: Mapped[Optional[str]] = Column(String(255))
    # A retried confirmation carries the same key and gets the same booking back.
    idempotency_key: Mapped[str] = Column(String(255), nullable=False, unique=True)
    created_at: Mapped[dt.datetime] = Column(AwareDateTime, nullable=False)
    updated_at: Mapped[dt.datetime] = Column(AwareDateTime, nullable=False)


class SlotCounter(Base):
    """Places taken per appointment slot; the database refuses more than ``capacity``."""

    __tablename__ = "slot_counters"
    __table_args__ = (
        CheckConstraint("booked >= 0", name="booked_not_negative"),
        CheckConstraint("booked <= capacity", name="booked_within_capacity"),
    )

    date: Mapped[dt.date] = Column(Date, primary_key=True)
    time: Mapped[dt.time] = Column(Time, primary_key=True)
    capacity: Mapped[int] = Column(Integer, nullable=False)
    booked: Mapped[int] = Column(Integer, nullable=False, default=0)


class Closure(Base):
    """A lawyer day closed by staff with the admin command (bureau.yml has its own list too)."""

    __tablename__ = "closures"

    date: Mapped[dt.date] = Column(Date, primary_key=True)
    reason: Mapped[str] = Column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = Column(AwareDateTime, nullable=False)


class BookingStatistic(Base):
    """Anonymous counts of purged bookings, so that reports still cover purged periods."""

    __tablename__ = "booking_statistics"
    __table_args__ = (CheckConstraint("count >= 0", name="count_not_negative"),)

    date: Mapped[dt.date] = Column(Date, primary_key=True)
    matter_type: Mapped[str] = Column(String(32), primary_key=True)
    statutory_channel: Mapped[str] = Column(String(32), primary_key=True)
    status: Mapped[str] = Column(String(16), primary_key=True)
    count: Mapped[int] = Column(Integer, nullable=False)


class StaffAlert(Base):
    """A conversation that needs a member of staff (e.g. kind ``crisis``), written by the actions."""

    __tablename__ = "staff_alerts"
    __table_args__ = (Index("ix_staff_alerts_handled_created", "handled", "created_at"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    conversation_id: Mapped[str] = Column(String(255), nullable=False)
    kind: Mapped[str] = Column(String(32), nullable=False)
    created_at: Mapped[dt.datetime] = Column(AwareDateTime, nullable=False)
    handled: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    handled_at: Mapped[Optional[dt.datetime]] = Column(AwareDateTime)
