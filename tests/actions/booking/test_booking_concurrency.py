"""Concurrent bookings on SQLite and PostgreSQL: 50 threads race for the last places of a slot."""

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

from booking_helpers import phone
from sqlalchemy import func, select

from actions.booking.errors import SlotFull
from actions.booking.models import BOOKED, Booking, SlotCounter

WED = dt.date(2026, 12, 2)
THREADS = 50


def _race(threads, work):
    """Run work(i) in ``threads`` threads released together; returns (results, errors)."""
    barrier = threading.Barrier(threads)

    def run(i):
        barrier.wait()
        try:
            return work(i), None
        except Exception as error:  # noqa: BLE001 - collected and asserted on below
            return None, error

    with ThreadPoolExecutor(max_workers=threads) as pool:
        outcomes = list(pool.map(run, range(threads)))
    return [r for r, _ in outcomes if r is not None], [e for _, e in outcomes if e is not None]


def _book(service, n, key=None):
    return service.book(date=WED, time="10:00", name="王建国", phone=phone(n), matter_summary="欠薪",
                        idempotency_key=key or f"race-{n}")


def test_fifty_threads_never_exceed_capacity(database_url, make_config, make_service):
    capacity, already_booked = 5, 3
    service = make_service(database_url, make_config(lawyers_per_day=capacity), pool_size=10, max_overflow=45)
    for n in range(already_booked):
        _book(service, 1000 + n)

    confirmed, errors = _race(THREADS, lambda i: _book(service, i))

    assert len(confirmed) == capacity - already_booked
    assert len(errors) == THREADS - len(confirmed)
    assert all(isinstance(error, SlotFull) for error in errors), {type(e).__name__ for e in errors}
    with service._sessions() as session:
        stored = set(session.execute(
            select(Booking.code).where(Booking.date == WED, Booking.status == BOOKED)
        ).scalars())
        counter = session.execute(select(SlotCounter.booked, SlotCounter.capacity)).one()
    assert {b.code for b in confirmed} <= stored
    assert len(stored) == capacity
    assert tuple(counter) == (capacity, capacity)


def test_concurrent_retries_of_one_confirmation_make_one_booking(database_url, make_service):
    service = make_service(database_url, pool_size=10, max_overflow=10)
    confirmed, errors = _race(20, lambda i: _book(service, 7, key="conv-1:msg-1"))
    assert errors == []
    assert len({b.code for b in confirmed}) == 1
    with service._sessions() as session:
        assert session.execute(select(func.count()).select_from(Booking)).scalar_one() == 1
        assert session.execute(select(SlotCounter.booked)).scalar_one() == 1


def test_concurrent_bookings_of_one_phone_respect_the_limits(database_url, make_config, make_service):
    service = make_service(database_url, make_config(lawyers_per_day=50), pool_size=10, max_overflow=10)
    confirmed, errors = _race(20, lambda i: service.book(
        date=WED, time="10:00", name="王建国", phone=phone(9), matter_summary="欠薪", idempotency_key=f"k{i}"
    ))
    assert len(confirmed) == 1  # max_bookings_per_phone_per_day
    assert {e.reason.value for e in errors} == {"limit_per_day"}
