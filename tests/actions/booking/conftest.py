"""Fixtures of the booking-domain tests: a fixed clock, a test configuration independent of the
operator's bureau.yml, throwaway SQLite files and throwaway PostgreSQL databases.

Tests marked ``postgres`` need the server at ``BOOKING_TEST_POSTGRES_URL`` (default
postgresql://postgres@127.0.0.1:5432/test). They FAIL, with a message, when it is unreachable;
deselect them explicitly with ``-m "not postgres"`` on a machine without PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import tempfile
from pathlib import Path

import pytest
from booking_helpers import TEST_SESSIONS
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from actions.booking.service import BookingService
from actions.bureau import DEFAULT_PATH, LawyerSessions, Privacy, load_config
from actions.clock import SHANGHAI

POSTGRES_URL = os.environ.get("BOOKING_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
# A Thursday with no holiday in the following four weeks.
THURSDAY = dt.datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)



def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "postgres: needs PostgreSQL at BOOKING_TEST_POSTGRES_URL (default 127.0.0.1:5432); "
        "fails when it is down",
    )


class FixedClock:
    """A clock the test moves by hand."""

    def __init__(self, moment: dt.datetime):
        self.moment = moment

    def __call__(self) -> dt.datetime:
        return self.moment

    def set(self, *args: int) -> None:
        self.moment = dt.datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch):
    """The developer's own DATABASE_URL or BOT_NOW must not leak into the tests."""
    for name in ("DATABASE_URL", "BOT_NOW", "BUREAU_CONFIG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(THURSDAY)


@pytest.fixture
def make_config():
    """A configuration with the defaults of the issue, whatever the operator put in bureau.yml."""
    base = load_config(DEFAULT_PATH)

    def make(retention_days: int = 180, **session_overrides):
        sessions = LawyerSessions.parse_obj({**TEST_SESSIONS, **session_overrides})
        return base.copy(update={"lawyer_sessions": sessions, "privacy": Privacy(retention_days=retention_days)})

    return make


@pytest.fixture
def config(make_config):
    return make_config()


@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory(prefix="booking-test-") as path:
        yield Path(path)


@pytest.fixture
def sqlite_url(workdir) -> str:
    return f"sqlite:///{workdir / 'bookings.sqlite3'}"


@pytest.fixture
def postgres_url():
    """A database created for this test and dropped afterwards."""
    admin = create_engine(POSTGRES_URL, future=True, isolation_level="AUTOCOMMIT")
    name = f"booking_test_{secrets.token_hex(6)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any failure here means "no usable server"
        admin.dispose()
        pytest.fail(
            f"PostgreSQL is not usable at {POSTGRES_URL} ({type(error).__name__}: {error}). Start it, "
            "set BOOKING_TEST_POSTGRES_URL, or deselect these tests with -m 'not postgres'.",
            pytrace=False,
        )
    try:
        yield str(make_url(POSTGRES_URL).set(database=name))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request) -> str:
    """Runs the test once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")


@pytest.fixture
def service(sqlite_url, config, clock):
    svc = BookingService.open(sqlite_url, config=config, clock=clock)
    yield svc
    svc.dispose()


@pytest.fixture
def make_service(config, clock):
    """Services on other databases or configurations, disposed after the test."""
    opened = []

    def make(url: str, cfg=None, clk=None, **engine_options) -> BookingService:
        svc = BookingService.open(url, config=cfg or config, clock=clk or clock, **engine_options)
        opened.append(svc)
        return svc

    yield make
    for svc in opened:
        svc.dispose()
