"""Figures for the bureau's half-year report.

Definitions (the report covers session days from ``start`` to ``end`` inclusive):

* a booking counts as **served** when staff marked it ``attended``, or when it is still ``booked``
  on a session day before today (nobody marked it: it is counted, and reported separately as
  ``unmarked`` so that staff can correct it with ``mark``);
* **citizens served (人次)**: the number of served bookings; one citizen coming twice counts twice;
* **lawyer sessions held (批次)**: the number of lawyer days with at least one served booking.
  Walk-in citizens are not recorded by the assistant and are not in these figures;
* **by matter type**: served bookings per ``matter_type`` (``unknown`` when triage did not run).

Purged bookings are counted from the anonymous ``booking_statistics`` table, so the figures do not
change when personal data is purged.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actions.booking.models import ATTENDED, BOOKED, CANCELLED, NO_SHOW, UNKNOWN, Booking, BookingStatistic


@dataclass(frozen=True)
class Report:
    start: dt.date
    end: dt.date
    sessions_held: int                      # 批次
    citizens_served: int                    # 人次
    served_by_matter_type: Dict[str, int]   # 人次 per matter type, largest first
    attended: int
    unmarked: int                           # still "booked" after the session day: counted as served
    no_show: int
    cancelled: int
    session_days: List[dt.date] = field(default_factory=list)


def build_report(session: Session, start: dt.date, end: dt.date, today: dt.date) -> Report:
    if end < start:
        raise ValueError("the report's end is before its start")
    rows = _counts(session, start, end)
    served: Counter = Counter()
    by_status: Counter = Counter()
    days = set()
    for day, matter_type, status, count in rows:
        if status == BOOKED and day >= today:
            continue  # today's or a future session: not held yet, not "unmarked" either
        by_status[status] += int(count)
        if status in (ATTENDED, BOOKED):
            served[matter_type or UNKNOWN] += int(count)
            days.add(day)
    return Report(
        start=start,
        end=end,
        sessions_held=len(days),
        citizens_served=sum(served.values()),
        served_by_matter_type=dict(sorted(served.items(), key=lambda item: (-item[1], item[0]))),
        attended=by_status[ATTENDED],
        unmarked=by_status[BOOKED],
        no_show=by_status[NO_SHOW],
        cancelled=by_status[CANCELLED],
        session_days=sorted(days),
    )


def _counts(session: Session, start: dt.date, end: dt.date):
    """(day, matter type, status, count) from live bookings and from purged statistics."""
    matter = func.coalesce(Booking.matter_type, UNKNOWN)
    live = session.execute(
        select(Booking.date, matter, Booking.status, func.count())
        .where(Booking.date >= start, Booking.date <= end)
        .group_by(Booking.date, matter, Booking.status)
    ).all()
    purged = session.execute(
        select(BookingStatistic.date, BookingStatistic.matter_type, BookingStatistic.status,
               func.sum(BookingStatistic.count))
        .where(BookingStatistic.date >= start, BookingStatistic.date <= end)
        .group_by(BookingStatistic.date, BookingStatistic.matter_type, BookingStatistic.status)
    ).all()
    return [tuple(row) for row in live] + [tuple(row) for row in purged]
