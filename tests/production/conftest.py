"""The production setup on this machine: two Rasa replicas and two action servers behind HAProxy,
on the PostgreSQL and Redis servers running here (scripts/cluster.py, deploy/)."""

import json
import re
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

import pytest
from sqlalchemy import create_engine, text

from scripts.cluster import Cluster
from tests.conftest import ROOT

ARTIFACTS = ROOT / "artifacts"
NOW = "2026-11-26T10:00:00+08:00"  # Thursday
CODE = re.compile(r"预约码：([A-HJ-NP-Z2-9]{6})")


FIGURES: List[str] = []  # lines the tests report, printed at the end of the run


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if FIGURES:
        terminalreporter.section("scale-out figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def cluster():
    # Its own PostgreSQL database and Redis database, chosen for this run (scripts/cluster.py).
    with Cluster(base_port=26000, log_dir=ARTIFACTS / "cluster-logs", env={"BOT_NOW": NOW}) as running:
        yield running


@pytest.fixture(scope="session")
def bookings(cluster):
    engine = create_engine(cluster.database_url, future=True)

    def rows(where: str = "TRUE", **params) -> List[Dict[str, Any]]:
        with engine.connect() as connection:
            result = connection.execute(
                text(f"SELECT code, date, time, phone, conversation_id, status FROM bookings WHERE {where}"),
                params,
            )
            return [dict(row._mapping) for row in result]

    yield rows
    engine.dispose()


@dataclass
class Citizen:
    """One citizen on the REST channel. A message whose answer was lost to a failure (a refused
    connection, a 502 from the balancer, a timeout) is sent again, as a person would."""

    url: str
    sender: str = field(default_factory=lambda: f"citizen-{uuid.uuid4().hex[:12]}")
    retries: int = 3
    timeout: float = 150.0  # a lock left by a killed replica expires after 60 s
    failures: List[str] = field(default_factory=list)
    replicas: List[str] = field(default_factory=list)  # who answered through the balancer

    def say(self, message: str, url: Optional[str] = None) -> str:
        body = json.dumps({"sender": self.sender, "message": message}).encode()
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(
                f"{url or self.url}/webhooks/rest/webhook", data=body,
                headers={"Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    replies = json.loads(response.read())
                    self.replicas.append(response.headers.get("X-Replica") or "direct")
                reply = "\n".join(r.get("text", "") for r in replies)
                assert "没处理好" not in reply, (message, reply)
                return reply
            except (urllib.error.HTTPError, urllib.error.URLError, OSError) as error:
                self.failures.append(f"{message}: {error}")
                time.sleep(1 + attempt)
        raise AssertionError(f"{self.sender}: no answer to {message!r} after {self.retries + 1} tries: {self.failures}")

    def book(self, day: str, time_: str, phone: str, urls: Optional[List[str]] = None,
             halfway: Optional[Callable[[], None]] = None) -> Optional[str]:
        """A whole booking; the code confirmed to the citizen, or None if the slot was taken.
        ``halfway`` is called after the third of the six messages (a test's pause)."""
        steps = ["我想预约律师", f'/inform{{"date":"{day}","time":"{time_}"}}', "王建国", phone,
                 "工资被拖欠三个月", "/affirm"]
        reply = ""
        for number, step in enumerate(steps):
            if number == 3 and halfway is not None:
                halfway()
            reply = self.say(step, url=urls[number % len(urls)] if urls else None)
        found = CODE.search(reply)
        return found.group(1) if found else None
