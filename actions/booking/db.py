"""Engines and sessions for the bookings database.

``DATABASE_URL`` selects the database (PostgreSQL in production); by default a SQLite file
``data/db/bookings.sqlite3`` under the repository root, whose folder is created on demand.

SQLite is made fit for a threaded action server: WAL (readers do not block the writer), a busy
timeout (a writer waits for the lock instead of failing with "database is locked"), FULL
synchronous commits (a confirmed booking survives a power cut) and ``BEGIN IMMEDIATE`` for every
transaction that may write: the write lock is taken at the start, so a transaction that read
something can never fail later when it tries to write (SQLITE_BUSY on lock upgrade), and booking
transactions are serialised. Sessions from ``session_factory(engine, read_only=True)`` start with a
plain deferred ``BEGIN`` instead: in WAL mode they read a snapshot without waiting for writers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.future import create_engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SQLITE_PATH = REPO_ROOT / "data" / "db" / "bookings.sqlite3"
SQLITE_BUSY_TIMEOUT_SECONDS = 30
_READ_ONLY_OPTION = "booking_read_only"


def database_url() -> str:
    """``DATABASE_URL``, or the default SQLite file."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def create_engine_for(url: Optional[str] = None, **engine_options: Any) -> Engine:
    """A 2.0-style engine for ``url`` (default ``database_url()``), configured for its dialect."""
    url = make_url(url or database_url())
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, **engine_options)
    engine_options.setdefault("pool_pre_ping", True)
    return create_engine(url, future=True, **engine_options)


def session_factory(engine: Engine, read_only: bool = False) -> sessionmaker:
    """Sessions that keep loaded values usable after commit (results leave the service as DTOs).
    ``read_only`` sessions must not write: on SQLite they do not take the write lock."""
    bind = engine.execution_options(**{_READ_ONLY_OPTION: True}) if read_only else engine
    return sessionmaker(bind, future=True, expire_on_commit=False)


def _sqlite_engine(url, **engine_options: Any) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # SQLAlchemy 1.4 opens a new file connection per checkout (NullPool); reusing them saves
        # the connect and PRAGMA round trips on every booking.
        engine_options.setdefault("poolclass", QueuePool)
    connect_args = engine_options.pop("connect_args", {})
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_SECONDS)
    connect_args.setdefault("check_same_thread", False)  # the pool hands connections across threads
    engine = create_engine(url, future=True, connect_args=connect_args, **engine_options)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN, instead of pysqlite's own deferred
        # BEGIN (which also breaks SAVEPOINTs).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def dialect_insert(session, table):
    """An INSERT supporting ``on_conflict_do_*`` on the session's database (SQLite or PostgreSQL)."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        raise NotImplementedError(f"upserts are implemented for SQLite and PostgreSQL, not {name}")
    return insert(table)
