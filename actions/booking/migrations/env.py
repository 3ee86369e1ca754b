"""Alembic environment of the booking domain.

Run programmatically by ``actions.booking.migrate`` (which hands over a connection), or by the
``alembic`` command line from the repository root (which uses ``DATABASE_URL``).
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import text

from actions.booking.db import create_engine_for, database_url
from actions.booking.models import metadata

config = context.config
# Any fixed number: PostgreSQL advisory lock held while migrating, so that two processes starting
# together (action server, admin command) do not both create the tables.
_MIGRATION_LOCK = 4_260_117


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})"))
        context.run_migrations()


def run_offline() -> None:
    context.configure(
        url=config.attributes.get("database_url") or database_url(),
        target_metadata=metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    if config.config_file_name and config.file_config.has_section("loggers"):
        fileConfig(config.config_file_name)
    engine = create_engine_for(config.attributes.get("database_url") or database_url())
    try:
        with engine.connect() as connection:
            _configure(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
