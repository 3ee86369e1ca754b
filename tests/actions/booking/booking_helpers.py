"""Small helpers shared by the booking tests."""

from __future__ import annotations

import itertools

_counter = itertools.count()

# The defaults of the issue, independent of what the operator put in bureau.yml.
TEST_SESSIONS = dict(
    weekdays=["wednesday", "friday"],
    periods=[
        {"name": "上午", "start": "09:00", "end": "11:30"},
        {"name": "下午", "start": "14:30", "end": "17:00"},
    ],
    slot_minutes=30,
    lawyers_per_day=2,
    booking_window_days=28,
    cutoff_minutes=60,
    max_active_bookings_per_phone=2,
    max_bookings_per_phone_per_day=1,
    closures={},
)


def phone(n: int) -> str:
    """A distinct valid China Mobile number per n."""
    return f"138{n:08d}"


def book(service, date, time, n=None, **extra):
    """Book with distinct, valid personal data unless given."""
    n = next(_counter) if n is None else n
    values = dict(
        date=date, time=time, name="王建国", phone=phone(n), matter_summary="工资被拖欠三个月",
        idempotency_key=f"test-{n}-{date}-{time}-{next(_counter)}",
    )
    values.update(extra)
    return service.book(**values)
