"""Booking throughput and latency under concurrent clients, on SQLite and on PostgreSQL.

    .venv/bin/python benchmarks/booking.py [--clients 20] [--oversubscribe 1.2] [--sqlite-only]

Each run uses a fresh database (a temporary SQLite file; a throwaway PostgreSQL database created
on the server at BENCHMARK_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test, and
dropped afterwards) and a fixed clock (Thursday 2026-11-26 08:00). The booking window then holds 8
lawyer days x 10 slots; with ``--capacity`` places per slot. The clients together attempt
``oversubscribe`` times as many bookings as there are places, each on a slot drawn at random (seeded),
so the last places of many slots are fought over and SlotFull refusals happen. Each attempt is a
full ``BookingService.book()`` call (validation, checks, limits, the atomic place, the insert, the
commit) with a new phone number.

Printed per database: confirmed bookings per second (wall clock), attempts per second, median and
95th percentile latency of book() (confirmed calls and all calls), and capacity violations, which
must be 0: slots with more active bookings than capacity, or whose counter disagrees with the rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from actions.booking.errors import SlotFull  # noqa: E402
from actions.booking.models import BOOKED, Booking, SlotCounter  # noqa: E402
from actions.booking.service import BookingService  # noqa: E402
from actions.bureau import DEFAULT_PATH, LawyerSessions, load_config  # noqa: E402
from actions.clock import SHANGHAI  # noqa: E402

NOW = dt.datetime(2026, 11, 26, 8, 0, tzinfo=SHANGHAI)
POSTGRES_URL = os.environ.get("BENCHMARK_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def benchmark_config(capacity: int):
    base = load_config(DEFAULT_PATH)
    sessions = LawyerSessions.parse_obj({
        "weekdays": ["wednesday", "friday"],
        "periods": [{"name": "上午", "start": "09:00", "end": "11:30"},
                    {"name": "下午", "start": "14:30", "end": "17:00"}],
        "slot_minutes": 30, "lawyers_per_day": capacity, "booking_window_days": 28, "cutoff_minutes": 60,
        "max_active_bookings_per_phone": 2, "max_bookings_per_phone_per_day": 1, "closures": {},
    })
    return base.copy(update={"lawyer_sessions": sessions})


def run(url: str, clients: int, capacity: int, oversubscribe: float, seed: int) -> dict:
    service = BookingService.open(url, config=benchmark_config(capacity), clock=lambda: NOW,
                                  pool_size=clients, max_overflow=0)
    try:
        slots = [(s.date, s.label) for day in _lawyer_days(service) for s in service.free_slots(day)]
        places = len(slots) * capacity
        attempts = int(places * oversubscribe)
        next_attempt = iter(range(attempts))
        lock = threading.Lock()
        results = []  # (ok, seconds)
        barrier = threading.Barrier(clients + 1)

        def client(number: int) -> None:
            rng = random.Random(seed * 1000 + number)
            barrier.wait()
            while True:
                with lock:
                    attempt = next(next_attempt, None)
                if attempt is None:
                    return
                day, label = rng.choice(slots)
                started = time.perf_counter()
                try:
                    service.book(date=day, time=label, name="王建国", phone=f"139{attempt:08d}",
                                 matter_summary="欠薪", idempotency_key=f"bench-{attempt}")
                    ok = True
                except SlotFull:
                    ok = False
                elapsed = time.perf_counter() - started
                with lock:
                    results.append((ok, elapsed))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        barrier.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started

        confirmed = [seconds for ok, seconds in results if ok]
        every = [seconds for _, seconds in results]
        return {
            "places": places, "attempts": len(results), "confirmed": len(confirmed),
            "refused_full": len(results) - len(confirmed), "seconds": wall,
            "bookings_per_second": len(confirmed) / wall, "attempts_per_second": len(results) / wall,
            "median_ms": 1000 * statistics.median(confirmed), "p95_ms": 1000 * _p95(confirmed),
            "median_all_ms": 1000 * statistics.median(every), "p95_all_ms": 1000 * _p95(every),
            "violations": _capacity_violations(service, capacity),
        }
    finally:
        service.dispose()


def _lawyer_days(service):
    today = NOW.date()
    days = (today + dt.timedelta(days=n) for n in range(service.rules.booking_window_days + 1))
    return [day for day in days if service.check_date(day) is None]


def _p95(values):
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def _capacity_violations(service, capacity: int) -> int:
    with service._sessions() as session:
        active = session.execute(
            select(Booking.date, Booking.time, func.count()).where(Booking.status == BOOKED)
            .group_by(Booking.date, Booking.time)
        ).all()
        counters = session.execute(select(SlotCounter.date, SlotCounter.time, SlotCounter.booked)).all()
    rows = {(day, slot_time): count for day, slot_time, count in active}
    violations = sum(1 for n in rows.values() if n > capacity)
    violations += sum(1 for day, slot_time, booked in counters if booked != rows.get((day, slot_time), 0))
    return violations


def _print(name: str, result: dict, clients: int) -> None:
    print(f"{name}: {clients} concurrent clients, {result['attempts']} attempts for {result['places']} places")
    print(f"  confirmed bookings/s : {result['bookings_per_second']:.0f}"
          f"  ({result['confirmed']} confirmed in {result['seconds']:.2f} s; {result['refused_full']} refused full)")
    print(f"  attempts/s           : {result['attempts_per_second']:.0f}")
    print(f"  book() latency       : median {result['median_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms"
          f"  (all attempts: median {result['median_all_ms']:.1f} ms, p95 {result['p95_all_ms']:.1f} ms)")
    print(f"  capacity violations  : {result['violations']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--capacity", type=int, default=25, help="places per slot (lawyers_per_day)")
    parser.add_argument("--oversubscribe", type=float, default=1.2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()

    violations = 0
    with tempfile.TemporaryDirectory(prefix="booking-bench-") as folder:
        result = run(f"sqlite:///{folder}/bench.sqlite3", args.clients, args.capacity, args.oversubscribe, args.seed)
        _print("SQLite (WAL, synchronous=FULL)", result, args.clients)
        violations += result["violations"]
    if not args.sqlite_only:
        admin = create_engine(POSTGRES_URL, future=True, isolation_level="AUTOCOMMIT")
        name = f"booking_bench_{secrets.token_hex(4)}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = str(make_url(POSTGRES_URL).set(database=name))
            result = run(url, args.clients, args.capacity, args.oversubscribe, args.seed)
            _print(f"PostgreSQL ({make_url(POSTGRES_URL).host})", result, args.clients)
            violations += result["violations"]
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
