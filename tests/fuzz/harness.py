"""What the fuzz tests share: the ledger of inputs tried and answers got, an HTTP client that
records every request into it, and a snapshot of the bookings database."""

from __future__ import annotations

import os
import re
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import requests
from sqlalchemy import create_engine, inspect, text

from tests.conftest import ROOT

RASA_PORT = 18005
ACTION_PORT = 18055
SECRET = "fuzz-secret-5d1c0b6e9a"
SECRET_HEADER = "X-Action-Server-Secret"
BOT_NOW = "2026-11-26T10:00:00+08:00"
MAX_REQUEST_BYTES = 1_000_000  # SANIC_REQUEST_MAX_SIZE of both servers in these tests
MESSAGE_MAX_CHARS = 1000
WECHAT_MAX_BODY = 64 * 1024
LOG_DIR = ROOT / "artifacts" / "fuzz-logs"
TIMEOUT = 60.0

# The endpoints as they appear in the summary.
REST = "rasa POST /webhooks/rest/webhook"
RASA_OTHER = "rasa other routes"
ACTIONS = "actions POST /webhook"
ACTIONS_OTHER = "actions other routes"
WECHAT_GET = "wechat GET /webhooks/wechat/webhook"
WECHAT_POST = "wechat POST /webhooks/wechat/webhook"

# FUZZ_SCALE=10 runs ten times as many examples (a longer, deeper run); 1 keeps `make test` quick.
SCALE = float(os.environ.get("FUZZ_SCALE", "1"))


def examples(count: int) -> int:
    return max(1, int(count * SCALE))


def describe(value: Any, limit: int = 400) -> str:
    shown = repr(value)
    return shown if len(shown) <= limit else f"{shown[:limit]}… ({len(shown)} characters)"


@dataclass
class ServerError:
    endpoint: str
    status: int
    example: str
    answer: str


@dataclass
class Ledger:
    """Inputs tried and statuses got, per endpoint, for the whole session."""

    tried: Counter = field(default_factory=Counter)
    statuses: Dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    server_errors: List[ServerError] = field(default_factory=list)
    connection_failures: List[Tuple[str, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, endpoint: str, status: Optional[int]) -> None:
        with self.lock:
            self.tried[endpoint] += 1
            self.statuses[endpoint][status if status is not None else "no answer"] += 1

    def five_xx(self, endpoint: Optional[str] = None) -> int:
        return sum(
            count
            for name, statuses in self.statuses.items()
            if endpoint in (None, name)
            for status, count in statuses.items()
            if isinstance(status, int) and status >= 500
        )

    def summary_lines(self) -> List[str]:
        lines = ["fuzz count (hypothesis, deterministic):"]
        width = max([len(e) for e in self.tried] + [10])
        for endpoint in sorted(self.tried):
            statuses = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses[endpoint].items(), key=str))
            lines.append(f"  {endpoint:<{width}}  inputs tried {self.tried[endpoint]:>5}   "
                         f"5xx {self.five_xx(endpoint)}   ({statuses})")
        lines.append(f"  {'total':<{width}}  inputs tried {sum(self.tried.values()):>5}   5xx {self.five_xx()}")
        for error in self.server_errors[:10]:
            lines.append(f"  5xx {error.status} on {error.endpoint}: {error.example} -> {error.answer}")
        for endpoint, example, problem in self.connection_failures[:10]:
            lines.append(f"  no answer on {endpoint}: {example} -> {problem}")
        return lines


LEDGER = Ledger()


class FuzzClient:
    """Sends one fuzz input, records it, and fails on a 5xx or a server that does not answer."""

    def __init__(self, ledger: Ledger = LEDGER) -> None:
        self.ledger = ledger
        self.session = requests.Session()

    def send(self, endpoint: str, method: str, url: str, *, example: Any = None,
             allow_reset: bool = False, **kwargs: Any) -> Optional[requests.Response]:
        """The answer; ``None`` only with ``allow_reset`` when the server closed the connection
        before answering (an oversized body it stopped reading)."""
        kwargs.setdefault("timeout", TIMEOUT)
        shown = describe(example if example is not None else kwargs.get("data") or kwargs.get("params"))
        # A generator body is sent chunked and cannot be sent twice.
        retriable = isinstance(kwargs.get("data"), (bytes, str, dict, type(None)))
        for attempt in range(2 if retriable else 1):
            try:
                response = self.session.request(method, url, **kwargs)
                break
            except requests.ConnectionError as error:
                # Perhaps a pooled keep-alive connection the server had closed: once more, on a new one.
                self.session.close()
                self.session = requests.Session()
                failure = error
        else:
            self.ledger.record(endpoint, None)
            if allow_reset:
                return None
            self.ledger.connection_failures.append((endpoint, shown, repr(failure)[:200]))
            raise AssertionError(f"{endpoint} did not answer {shown}: {failure!r}") from failure
        self.ledger.record(endpoint, response.status_code)
        if response.status_code >= 500:
            self.ledger.server_errors.append(ServerError(endpoint, response.status_code, shown, response.text[:300]))
            raise AssertionError(f"{endpoint} answered {response.status_code} to {shown}: {response.text[:300]}")
        sent = repr((example, kwargs.get("data"), kwargs.get("params"), kwargs.get("json")))
        for leak in ("Traceback", "sqlalchemy", 'File "/', "site-packages"):
            if leak in response.text and leak not in sent:  # the WeChat verification echoes echostr
                raise AssertionError(f"{endpoint} leaked {leak!r} answering {shown}: {response.text[:500]}")
        return response


# --------------------------------------------------------------------------- the bookings database

SNAPSHOT_TABLES = ("bookings", "slot_counters")


def snapshot(database_url: str) -> Dict[str, List[Tuple[Any, ...]]]:
    """Every row of the bookings and slot counter tables, in a stable order."""
    engine = create_engine(database_url, future=True)
    try:
        with engine.connect() as connection:
            present = set(inspect(connection).get_table_names())
            rows = {}
            for table in SNAPSHOT_TABLES:
                if table not in present:
                    rows[table] = []
                    continue
                result = connection.execute(text(f"SELECT * FROM {table}"))
                # Each row as its (column, value) pairs: comparable, and readable with dict(row).
                rows[table] = sorted((tuple(sorted(row._mapping.items())) for row in result), key=repr)
            return rows
    finally:
        engine.dispose()


def bookings(database_url: str) -> List[Dict[str, Any]]:
    engine = create_engine(database_url, future=True)
    try:
        with engine.connect() as connection:
            if "bookings" not in inspect(connection).get_table_names():
                return []
            return [dict(row._mapping) for row in connection.execute(text("SELECT * FROM bookings ORDER BY id"))]
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- logs

TRACEBACK = re.compile(r"^Traceback \(most recent call last\):$", re.MULTILINE)
# What the servers log when they answer 5xx.
FIVE_XX_MARKERS = (
    "Exception occurred while handling uri",  # Sanic's default error handler (Rasa server)
    "Action server error on",  # actions/server.py's handler for unexpected exceptions
)
# What they log when handling a message failed although the answer was 200 (the citizen got no reply).
CRASH_MARKERS = (
    "rest.message.received.failure",  # Rasa's REST channel swallowed an exception
    "rest: handling a streamed message failed",  # bot/channels/rest.py, ?stream=true
    "Task exception was never retrieved",
    "wechat: handling a message of user",  # bot/channels/wechat.py answered SORRY
    "Rate limit not checked",  # bot/guard.py could not count a sender
)


def log_texts(log_dir: Path = LOG_DIR) -> Dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8", errors="replace") for path in sorted(log_dir.glob("*.log"))}


def traceback_contexts(log: str, before: int = 3, after: int = 40) -> List[str]:
    """Each traceback of a log with the lines that introduce and end it."""
    lines = log.splitlines()
    contexts = []
    for index, line in enumerate(lines):
        if TRACEBACK.match(line):
            contexts.append("\n".join(lines[max(0, index - before): index + after]))
    return contexts


def fuzz_settings(max_examples: int, **overrides: Any):
    """The "fuzz" profile of tests/fuzz/conftest.py with this test's number of examples."""
    from hypothesis import settings

    return settings(settings.get_profile("fuzz"), max_examples=examples(max_examples), **overrides)


# Bookings made on purpose by the session (the valid confirmed conversation): code -> row.
LEGITIMATE_BOOKINGS: Dict[str, Dict[str, Any]] = {}
