"""Where Rasa keeps conversations and conversation locks, on the embedded default and in production.

``PrivateTrackerStore`` is the tracker store of both endpoints files. Without a URL it keeps
conversations in this process's memory (one machine, no external service); with a SQLAlchemy URL
(``TRACKER_STORE_URL`` in ``deploy/endpoints.yml``) it is Rasa's ``SQLTrackerStore`` on that
database, shared by every Rasa replica. Either way, what reaches the store is private:

- what citizens and the assistant said is stored with phone and ID numbers masked;
- the slots with personal data are stored encrypted (``bot.privacy.SlotCipher``) and decrypted
  when a conversation is read back, so that a booking can go on on another replica;
- in memory, a conversation is forgotten ``privacy.retention_days`` (bureau.yml) after its last
  message, as the SQL store's conversations are purged by ``python -m actions.admin purge``.

``RedisURLLockStore`` is Rasa's ``RedisLockStore`` configured by one URL (``REDIS_URL``), the same
URL the channels use for their rate limits and WeChat's de-duplication.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from typing import Any, Callable, Dict, Iterable, List, Optional, Text

from rasa.core.brokers.broker import EventBroker
from rasa.core.lock_store import RedisLockStore
from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy.engine import make_url

from actions import clock
from actions.bureau import get_config
from bot import speedups
from bot.privacy import PERSONAL_SLOTS, SlotCipher, install_log_masking, mask_personal_numbers

logger = logging.getLogger(__name__)

# How often the in-memory store looks for conversations past the retention period.
SWEEP_INTERVAL = dt.timedelta(hours=1)


def sql_tracker_store_arguments(url: Text) -> Dict[Text, Any]:
    """``postgresql://user:pw@host:5432/db`` as the arguments of Rasa's ``SQLTrackerStore``."""
    parsed = make_url(url)
    return {
        "dialect": parsed.drivername,
        "host": parsed.host,
        "port": parsed.port,
        "db": parsed.database,
        "username": parsed.username,
        "password": parsed.password,
        "query": dict(parsed.query) or None,
    }


class PrivateTrackerStore(TrackerStore):
    """Rasa's in-memory or SQL tracker store, with personal data masked or encrypted at rest."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        host: Optional[Text] = None,
        event_broker: Optional[EventBroker] = None,
        now: Callable[[], dt.datetime] = clock.now,
        **kwargs: Any,
    ) -> None:
        # The tracker store is the first of our parts a Rasa server creates (before any message):
        # the process-wide settings go in here.
        install_log_masking()
        speedups.install()
        url = host or kwargs.pop("url", None) or None  # Rasa passes the endpoint's `url` as `host`
        if url:
            self.inner: TrackerStore = SQLTrackerStore(
                domain, event_broker=event_broker, **sql_tracker_store_arguments(url)
            )
        else:
            self.inner = InMemoryTrackerStore(domain, event_broker=event_broker)
        self.cipher = SlotCipher.from_environment(required=bool(url))
        self.now = now
        self.retention = dt.timedelta(days=get_config().privacy.retention_days)
        self.last_active: Dict[Text, dt.datetime] = {}  # in memory only: sender -> last save
        self.next_sweep: Optional[dt.datetime] = None
        super().__init__(domain, event_broker, **kwargs)
        logger.info("Tracker store: %s", type(self.inner).__name__)

    @property
    def domain(self) -> Domain:
        return self.inner.domain

    @domain.setter
    def domain(self, domain: Optional[Domain]) -> None:
        # TrackerStore.__init__ sets it before `inner` exists in some call orders.
        if hasattr(self, "inner"):
            self.inner.domain = domain or Domain.empty()

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.inner.save(self.protected(tracker))
        if self.in_memory:
            self.last_active[tracker.sender_id] = self.now()
            self.forget_expired()

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        self.forget_expired(sender_id)
        return self.revealed(await self.inner.retrieve(sender_id))

    async def retrieve_full_tracker(self, conversation_id: Text) -> Optional[DialogueStateTracker]:
        self.forget_expired(conversation_id)
        return self.revealed(await self.inner.retrieve_full_tracker(conversation_id))

    async def keys(self) -> Iterable[Text]:
        return await self.inner.keys()

    # --- how long it is kept (in memory) -------------------------------------------------------

    @property
    def in_memory(self) -> bool:
        return isinstance(self.inner, InMemoryTrackerStore)

    def forget_expired(self, sender_id: Optional[Text] = None) -> None:
        """Forgets ``sender_id``'s conversation if it is past the retention period, and, once per
        ``SWEEP_INTERVAL``, every other such conversation."""
        if not self.in_memory:
            return
        now = self.now()
        cutoff = now - self.retention
        if self.next_sweep is None or now >= self.next_sweep:
            self.next_sweep = now + SWEEP_INTERVAL
            expired = [sender for sender, moment in self.last_active.items() if moment < cutoff]
        else:
            expired = [sender_id] if sender_id in self.last_active and self.last_active[sender_id] < cutoff else []
        for sender in expired:
            self.inner.store.pop(sender, None)
            del self.last_active[sender]
        if expired:
            logger.info("Forgot %d conversation(s) past the retention period", len(expired))

    # --- what is stored -------------------------------------------------------------------------

    def protected(self, tracker: DialogueStateTracker) -> DialogueStateTracker:
        """A copy of ``tracker`` as it may be stored; the tracker in use is left as it is.

        Only the events that carry personal data are copied (through their dict form); the others
        are shared with the tracker in use, which never changes an event once it is logged.
        """
        events = [self._protected_copy(event) for event in tracker.events]
        return DialogueStateTracker.from_events(
            tracker.sender_id, events, self.domain.slots, tracker._max_event_history
        )

    def _protected_copy(self, event: Event) -> Event:
        if not isinstance(event, (UserUttered, BotUttered, SlotSet)):
            return event
        original = event.as_dict()
        protected = self.protected_event(copy.deepcopy(original))
        return event if protected == original else Event.from_parameters(protected)

    def protected_event(self, event: Dict[Text, Any]) -> Dict[Text, Any]:
        kind = event.get("event")
        if kind == "user":
            event["text"] = mask_personal_numbers(event.get("text"))
            parse_data = event.get("parse_data") or {}
            if "text" in parse_data:
                parse_data["text"] = mask_personal_numbers(parse_data["text"])
            for entity in parse_data.get("entities") or []:
                if isinstance(entity, dict):
                    entity["value"] = mask_personal_numbers(entity.get("value"))
        elif kind == "bot":
            event["text"] = mask_personal_numbers(event.get("text"))
            for button in (event.get("data") or {}).get("buttons") or []:
                if isinstance(button, dict):
                    button["title"] = mask_personal_numbers(button.get("title"))
        elif kind == "slot":
            if event.get("name") in PERSONAL_SLOTS:
                event["value"] = self.cipher.encrypt(event.get("value"))
            else:
                event["value"] = mask_personal_numbers(event.get("value"))
        return event

    def revealed(self, tracker: Optional[DialogueStateTracker]) -> Optional[DialogueStateTracker]:
        """``tracker`` as read from the store, with the personal slots decrypted again."""
        if tracker is None:
            return None
        for event in tracker.events:
            if isinstance(event, SlotSet) and event.key in PERSONAL_SLOTS:
                event.value = self.cipher.decrypt(event.value)
        for name in PERSONAL_SLOTS:
            slot = tracker.slots.get(name)
            if slot is not None:
                slot.value = self.cipher.decrypt(slot.value)
        return tracker


class RedisURLLockStore(RedisLockStore):
    """Rasa's ``RedisLockStore`` from one ``redis://[:password@]host:port/db`` URL."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        import redis

        kwargs = redis.connection.parse_url(endpoint_config.url)
        key_prefix = endpoint_config.kwargs.get("key_prefix")
        super().__init__(
            host=kwargs.get("host", "localhost"),
            port=int(kwargs.get("port", 6379)),
            db=int(kwargs.get("db", 0)),
            username=kwargs.get("username"),
            password=kwargs.get("password"),
            use_ssl=kwargs.get("connection_class") is redis.SSLConnection,
            key_prefix=key_prefix,
        )
        self.red.ping()  # fail at start, with a clear error, not on the first message
