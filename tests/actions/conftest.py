"""Build real rasa_sdk trackers from event lists, as the action server receives them."""

from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker


def user_event(intent: str, text: str = "", ranking: Optional[List[Dict[str, Any]]] = None) -> dict:
    parse = {"intent": {"name": intent, "confidence": 0.9}, "entities": [], "text": text}
    if ranking is not None:
        parse["intent_ranking"] = ranking
    return {"event": "user", "text": text, "parse_data": parse}


def make_tracker(events: List[dict], slots: Optional[Dict[str, Any]] = None, sender: str = "citizen-1") -> Tracker:
    latest = next((e["parse_data"] for e in reversed(events) if e["event"] == "user"), {})
    return Tracker(sender, slots or {}, latest, events, False, None, {}, "action_listen")


@pytest.fixture
def run_action():
    """Runs an action like the action server does and returns (messages, events)."""
    import asyncio

    from rasa_sdk.executor import CollectingDispatcher

    def run(action, tracker: Tracker, domain: Optional[dict] = None):
        dispatcher = CollectingDispatcher()
        events = asyncio.run(action.run(dispatcher, tracker, domain or {}))
        return dispatcher.messages, events

    return run


@pytest.fixture(autouse=True)
def bookings_database(tmp_path, monkeypatch):
    """Every action test gets its own SQLite bookings database and a fixed clock."""
    from actions.booking_form import get_service

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bookings.sqlite3'}")
    monkeypatch.setenv("BOT_NOW", "2026-11-26T10:00:00+08:00")
    get_service.cache_clear()
    yield
    if get_service.cache_info().currsize:
        get_service().dispose()
    get_service.cache_clear()
