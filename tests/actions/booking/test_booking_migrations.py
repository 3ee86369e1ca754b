"""Alembic migrations: upgrade from empty, match the models, downgrade, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from actions.booking.db import create_engine_for
from actions.booking.migrate import current_revision, downgrade, head_revision, upgrade
from actions.booking.models import metadata

TABLES = {"bookings", "slot_counters", "closures", "booking_statistics", "staff_alerts"}


def _tables(url):
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _differences(url):
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def test_upgrade_from_empty_and_downgrade(database_url):
    assert _tables(database_url) == set()
    assert current_revision(database_url) is None

    upgrade(database_url)
    assert _tables(database_url) == TABLES
    assert current_revision(database_url) == head_revision()
    assert _differences(database_url) == []  # the migrations build exactly what the models say

    upgrade(database_url)  # at start-up every time: a no-op when up to date
    assert current_revision(database_url) == head_revision()

    downgrade(database_url)
    assert _tables(database_url) == set()
    assert current_revision(database_url) is None

    upgrade(database_url)  # and back again
    assert _tables(database_url) == TABLES


def test_default_database_is_a_sqlite_file_under_the_repository(monkeypatch):
    from actions.booking import db

    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert db.database_url() == f"sqlite:///{db.REPO_ROOT / 'data' / 'db' / 'bookings.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", "postgresql://bureau@db/bookings")
    assert db.database_url() == "postgresql://bureau@db/bookings"


def test_sqlite_engine_uses_wal_and_a_busy_timeout(sqlite_url):
    engine = create_engine_for(sqlite_url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10000
    finally:
        engine.dispose()
