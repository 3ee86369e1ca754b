"""The private tracker store: what it keeps is masked or encrypted, what it gives back is usable."""

import asyncio
import datetime as dt
import json

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, text

from actions.bureau import get_config
from bot.stores import SWEEP_INTERVAL, PrivateTrackerStore, sql_tracker_store_arguments
from tests.conftest import ROOT

PHONE = "13812345678"


@pytest.fixture(scope="module")
def domain():
    return Domain.load(str(ROOT / "domain.yml"))


def conversation(domain, sender="citizen-1"):
    tracker = DialogueStateTracker(sender, domain.slots)
    for event in [
        ActionExecuted("action_listen"),
        UserUttered(f"我的电话是{PHONE}", {"name": "inform", "confidence": 0.9},
                    [{"entity": "phone", "value": PHONE, "start": 5, "end": 16}]),
        SlotSet("citizen_phone", PHONE),
        SlotSet("citizen_name", "王建国"),
        SlotSet("booking_date", "2026-12-02"),
        BotUttered(f"· 电话：{PHONE}"),
    ]:
        tracker.update(event)
    return tracker


def stored_text(store, sender):
    raw = asyncio.run(store.inner.retrieve(sender))
    return json.dumps([e.as_dict() for e in raw.events], ensure_ascii=False)


def test_in_memory_store_keeps_no_phone_number_in_clear(domain):
    store = PrivateTrackerStore(domain)
    tracker = conversation(domain)
    asyncio.run(store.save(tracker))

    kept = stored_text(store, "citizen-1")
    assert PHONE not in kept and "王建国" not in kept
    assert "138****5678" in kept  # what was said, masked
    assert "2026-12-02" in kept  # slots without personal data stay readable

    back = asyncio.run(store.retrieve("citizen-1"))
    assert back.get_slot("citizen_phone") == PHONE
    assert back.get_slot("citizen_name") == "王建国"
    assert tracker.latest_message.text == f"我的电话是{PHONE}"  # the tracker in use is untouched


def test_sql_store_shared_by_replicas_with_the_same_key(domain, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'trackers.db'}"
    monkeypatch.setenv("TRACKER_ENCRYPTION_KEY", "the deployment's key")
    first, second = PrivateTrackerStore(domain, host=url), PrivateTrackerStore(domain, host=url)
    asyncio.run(first.save(conversation(domain)))

    with create_engine(url).connect() as connection:
        rows = connection.execute(text("SELECT data FROM events")).scalars().all()
    assert rows and not any(PHONE in row or "王建国" in row for row in rows)

    back = asyncio.run(second.retrieve("citizen-1"))
    assert back.get_slot("citizen_phone") == PHONE

    monkeypatch.setenv("TRACKER_ENCRYPTION_KEY", "a different key")
    stranger = PrivateTrackerStore(domain, host=url)
    assert asyncio.run(stranger.retrieve("citizen-1")).get_slot("citizen_phone") is None


def test_sql_store_refuses_to_start_without_a_key(domain, tmp_path, monkeypatch):
    monkeypatch.delenv("TRACKER_ENCRYPTION_KEY", raising=False)
    with pytest.raises(RuntimeError, match="TRACKER_ENCRYPTION_KEY"):
        PrivateTrackerStore(domain, host=f"sqlite:///{tmp_path / 'trackers.db'}")


def test_url_to_rasa_arguments():
    assert sql_tracker_store_arguments("postgresql://rasa:pw@db:5433/conversations") == {
        "dialect": "postgresql", "host": "db", "port": 5433, "db": "conversations",
        "username": "rasa", "password": "pw", "query": None,
    }


class Clock:
    def __init__(self, moment):
        self.moment = moment

    def __call__(self):
        return self.moment


def test_in_memory_conversations_are_forgotten_after_the_retention_period(domain):
    retention = dt.timedelta(days=get_config().privacy.retention_days)
    clock = Clock(dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    store = PrivateTrackerStore(domain, now=clock)
    asyncio.run(store.save(conversation(domain, "quiet-citizen")))
    asyncio.run(store.save(conversation(domain, "returning-citizen")))

    clock.moment += retention - dt.timedelta(minutes=1)
    assert asyncio.run(store.retrieve("quiet-citizen")) is not None  # not yet
    asyncio.run(store.save(conversation(domain, "returning-citizen")))  # still talking: kept longer

    clock.moment += dt.timedelta(minutes=2)
    assert asyncio.run(store.retrieve("quiet-citizen")) is None  # asked for: forgotten at once
    assert asyncio.run(store.retrieve("returning-citizen")) is not None

    asyncio.run(store.save(conversation(domain, "third-citizen")))
    clock.moment += retention + SWEEP_INTERVAL
    asyncio.run(store.save(conversation(domain, "new-citizen")))  # any save sweeps, hourly at most
    assert set(asyncio.run(store.keys())) == {"new-citizen"}
