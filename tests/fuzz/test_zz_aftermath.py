"""After the fuzzing (this module runs last): the servers are alive and answering, no 5xx was
answered or logged, and the bookings table holds exactly what was booked on purpose, unchanged."""

from __future__ import annotations

from collections import Counter

import pytest
import requests

from tests.fuzz.harness import (
    CRASH_MARKERS,
    FIVE_XX_MARKERS,
    LEDGER,
    LEGITIMATE_BOOKINGS,
    LOG_DIR,
    bookings,
    log_texts,
    snapshot,
    traceback_contexts,
)

pytestmark = pytest.mark.e2e


def test_the_servers_are_alive_and_answering(fuzz, assistant) -> None:
    assert set(assistant.processes) == {"actions", "rasa"}
    exited = {name: p.returncode for name, p in assistant.processes.items() if p.poll() is not None}
    assert not exited, exited
    assert requests.get(f"{assistant.action_url}/health", timeout=30).json() == {"status": "ok"}
    assert requests.get(f"{assistant.rasa_url}/webhooks/rest/", timeout=30).json() == {"status": "ok"}
    assert requests.get(f"{assistant.rasa_url}/webhooks/wechat/", timeout=30).json() == {"status": "ok"}
    replies = requests.post(f"{assistant.rasa_url}/webhooks/rest/webhook",
                            json={"sender": "fuzz-after", "message": "你好"}, timeout=60).json()
    assert replies and all(r["recipient_id"] == "fuzz-after" for r in replies)


def test_no_5xx_was_answered(fuzz) -> None:
    assert sum(LEDGER.tried.values()) > 0
    assert LEDGER.five_xx() == 0, "\n".join(LEDGER.summary_lines())
    assert not LEDGER.connection_failures, "\n".join(LEDGER.summary_lines())


def test_no_server_error_in_the_logs(fuzz, assistant) -> None:
    logs = log_texts(LOG_DIR)
    assert {"actions.log", "rasa.log"} <= set(logs)
    found = [(name, marker) for name, text in logs.items() for marker in FIVE_XX_MARKERS if marker in text]
    tracebacks = [f"--- {name}\n{context}" for name, text in logs.items() for context in traceback_contexts(text)]
    assert not found, f"{found}\n" + "\n".join(tracebacks[:5])


def test_no_message_handling_crashed(fuzz, assistant) -> None:
    """A 200 can hide a failure: the channels log it and the citizen gets no (or a "busy") answer."""
    logs = log_texts(LOG_DIR)
    found = [(name, line[:300]) for name, text in logs.items() for line in text.splitlines()
             if any(marker in line for marker in CRASH_MARKERS)]
    assert not found, "\n".join(f"{name}: {line}" for name, line in found[:10])


def test_bookings_hold_only_what_was_booked_on_purpose(fuzz, database_url, initial_snapshot) -> None:
    rows = {row["code"]: row for row in bookings(database_url)}
    initial = {dict(row)["code"] for row in initial_snapshot["bookings"]}
    assert set(rows) == initial | set(LEGITIMATE_BOOKINGS), (sorted(rows), sorted(LEGITIMATE_BOOKINGS))
    for code, row in LEGITIMATE_BOOKINGS.items():
        assert rows[code] == row, "a legitimate booking was changed"
    # The slot counters agree with the bookings.
    taken = Counter((str(r["date"]), str(r["time"])) for r in rows.values() if r["status"] == "booked")
    counters = {(str(c["date"]), str(c["time"])): c["booked"]
                for c in map(dict, snapshot(database_url)["slot_counters"])}
    assert {k: v for k, v in counters.items() if v} == dict(taken)
