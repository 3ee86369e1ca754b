"""Purging old conversations from Rasa's SQL tracker store (``TRACKER_STORE_URL``).

The bureau keeps what citizens told the assistant no longer than ``privacy.retention_days``, as the
web page's privacy notice says. Bookings are purged by ``actions/booking/retention.py``; this deletes
the conversation events (Rasa's ``events`` table) older than the same period. Run by
``python -m actions.admin purge`` when ``TRACKER_STORE_URL`` is set. Conversations kept in a Rasa
server's memory (the embedded default) are forgotten after the same period by the tracker store
itself (``bot/stores.py``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import create_engine, inspect, text

EVENTS_TABLE = "events"  # Rasa's SQLTrackerStore


def purge_conversations(tracker_store_url: str, now: dt.datetime, retention_days: int) -> int:
    """Deletes the events older than ``retention_days``; returns how many."""
    cutoff = (now - dt.timedelta(days=retention_days)).timestamp()
    engine = create_engine(tracker_store_url, future=True)
    try:
        if not inspect(engine).has_table(EVENTS_TABLE):
            return 0
        with engine.begin() as connection:
            result = connection.execute(text(f"DELETE FROM {EVENTS_TABLE} WHERE timestamp < :cutoff"),
                                        {"cutoff": cutoff})
            return result.rowcount
    finally:
        engine.dispose()
