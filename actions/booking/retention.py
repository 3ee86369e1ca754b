"""Purging personal data after the retention period (``privacy.retention_days``, default 180).

A booking is purged once ``retention_days`` have passed since its session day (session on
2026-05-27, 180 days: purged from 2026-11-23 on), whatever its status. Before its row is deleted
it is added to ``booking_statistics`` as an anonymous count per (session day, matter type,
statutory channel, status), so the half-year figures survive the purge. The slot counters of those
days go too (they hold no personal data, only clutter). Staff alerts that were handled more than
``retention_days`` ago are deleted (the conversation id leads to the conversation); open alerts
stay until someone handles them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from actions.booking.db import dialect_insert
from actions.booking.models import UNKNOWN, Booking, BookingStatistic, SlotCounter, StaffAlert


@dataclass(frozen=True)
class PurgeResult:
    bookings: int
    alerts: int
    before: dt.date  # bookings of sessions before this day were purged


def purge_expired(session: Session, now: dt.datetime, retention_days: int) -> PurgeResult:
    """Purge inside the caller's transaction: counts and deletions commit together or not at all."""
    before = now.date() - dt.timedelta(days=retention_days - 1)
    matter = func.coalesce(Booking.matter_type, UNKNOWN)
    channel = func.coalesce(Booking.statutory_channel, UNKNOWN)
    groups = session.execute(
        select(Booking.date, matter, channel, Booking.status, func.count())
        .where(Booking.date < before)
        .group_by(Booking.date, matter, channel, Booking.status)
    ).all()
    statistics = BookingStatistic.__table__
    for day, matter_type, statutory_channel, status, count in groups:
        upsert = dialect_insert(session, statistics).values(
            date=day, matter_type=matter_type, statutory_channel=statutory_channel, status=status,
            count=count,
        )
        session.execute(upsert.on_conflict_do_update(
            index_elements=["date", "matter_type", "statutory_channel", "status"],
            set_={"count": statistics.c.count + upsert.excluded.count},
        ))
    purged = session.execute(_bulk(delete(Booking).where(Booking.date < before))).rowcount
    session.execute(_bulk(delete(SlotCounter).where(SlotCounter.date < before)))
    alerts = session.execute(_bulk(
        delete(StaffAlert).where(
            StaffAlert.handled.is_(True),
            StaffAlert.handled_at < now - dt.timedelta(days=retention_days),
        )
    )).rowcount
    return PurgeResult(bookings=purged, alerts=alerts, before=before)


def _bulk(statement):
    return statement.execution_options(synchronize_session=False)
