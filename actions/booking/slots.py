"""The appointment grid: which start times a lawyer day has, and what a slot is.

Each configured period (e.g. 上午 09:00-11:30) is cut into ``slot_minutes`` appointments; an
appointment must end by the end of its period, so 09:00-11:30 with 30 minutes gives 09:00, 09:30,
10:00, 10:30 and 11:00.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import List, Optional

from actions.booking.dates import MORNING, AFTERNOON, EVENING
from actions.bureau import LawyerSessions
from actions.clock import SHANGHAI


@dataclass(frozen=True)
class Slot:
    date: dt.date
    time: dt.time
    capacity: int
    booked: int

    @property
    def free(self) -> int:
        return max(self.capacity - self.booked, 0)

    @property
    def start(self) -> dt.datetime:
        return slot_start(self.date, self.time)

    @property
    def label(self) -> str:
        """``HH:MM``, the format of the ``booking_time`` slot."""
        return self.time.strftime("%H:%M")

    @property
    def part_of_day(self) -> str:
        return part_of_day(self.time)


def slot_times(sessions: LawyerSessions) -> List[dt.time]:
    """Start times of a lawyer day, in order."""
    length = dt.timedelta(minutes=sessions.slot_minutes)
    times = []
    for period in sessions.periods:
        start = dt.datetime.combine(dt.date.min, period.start)
        end = dt.datetime.combine(dt.date.min, period.end)
        while start + length <= end:
            times.append(start.time())
            start += length
    return sorted(set(times))


def slot_start(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=SHANGHAI)


def part_of_day(time: dt.time) -> str:
    """``morning`` before noon, ``afternoon`` until 18:00, ``evening`` after."""
    if time < dt.time(12, 0):
        return MORNING
    if time < dt.time(18, 0):
        return AFTERNOON
    return EVENING


def parse_slot_time(value: "str | dt.time") -> Optional[dt.time]:
    """``HH:MM`` (the slot format) or a time object; None if it is neither."""
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    try:
        return dt.datetime.strptime(value.strip(), "%H:%M").time()
    except (AttributeError, ValueError):
        return None
