"""Schema migrations, run from Python: the action server calls ``upgrade()`` at start-up.

No ``alembic.ini`` is needed at run time; the one at the repository root only lets staff use the
``alembic`` command line (it reads ``DATABASE_URL`` the same way).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select

from actions.booking.db import create_engine_for, database_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Several action server replicas start at once: on PostgreSQL they take turns migrating.
_MIGRATION_LOCK_KEY = 0x58494E46414E47  # "XINFANG"


def alembic_config(url: Optional[str] = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not a main option: ConfigParser would choke on "%" in passwords.
    config.attributes["database_url"] = url or database_url()
    return config


def upgrade(database_url: Optional[str] = None, revision: str = "head") -> None:
    """Bring the database at ``database_url`` (default ``DATABASE_URL``) up to ``revision``."""
    _run(command.upgrade, database_url, revision)


def downgrade(database_url: Optional[str] = None, revision: str = "base") -> None:
    """Step the schema back to ``revision`` (``base`` drops every table of the booking domain)."""
    _run(command.downgrade, database_url, revision)


def current_revision(database_url: Optional[str] = None) -> Optional[str]:
    engine = create_engine_for(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _run(alembic_command, url: Optional[str], revision: str) -> None:
    config = alembic_config(url)
    engine = create_engine_for(config.attributes["database_url"])
    try:
        with engine.connect() as connection:
            locked = connection.dialect.name == "postgresql"
            if locked:
                connection.execute(select(func.pg_advisory_lock(_MIGRATION_LOCK_KEY)))
                connection.commit()
            try:
                config.attributes["connection"] = connection
                alembic_command(config, revision)
            finally:
                if locked:
                    connection.execute(select(func.pg_advisory_unlock(_MIGRATION_LOCK_KEY)))
                    connection.commit()
    finally:
        engine.dispose()
