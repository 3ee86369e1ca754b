"""Property-based fuzzing of the assistant's HTTP endpoints: the REST channel and the WeChat webhook
of the Rasa server, and the action server's webhook. Both servers are started once (real processes,
as `make run` starts them) with a fake WeChat API, a SQLite bookings database of their own and the
action server's shared secret; they run for this package only (fixtures of scope "package") and stop
once its last module, ``test_zz_aftermath.py``, has checked them.

The hypothesis profile "fuzz" (deterministic: derandomized, no example database) is registered here;
every test picks its number of examples (``harness.fuzz_settings``), scaled by FUZZ_SCALE (e.g.
FUZZ_SCALE=10 for a longer run). At the end the terminal summary shows the inputs tried per endpoint
and the number of 5xx answers (also written to artifacts/fuzz-logs/fuzz-count.txt).
"""

from __future__ import annotations

import shutil
from typing import Any, Dict, Iterator

import pytest
import requests
from hypothesis import HealthCheck, settings

from scripts.assistant import Assistant
from tests.bot.channels.fake_wechat import AES_KEY, APPID, SECRET as WECHAT_SECRET, TOKEN, FakeWeChatAPI
from tests.fuzz.harness import (
    ACTION_PORT,
    BOT_NOW,
    LEDGER,
    LEGITIMATE_BOOKINGS,
    LOG_DIR,
    MAX_REQUEST_BYTES,
    RASA_PORT,
    SECRET,
    FuzzClient,
    bookings,
    snapshot,
)

settings.register_profile(
    "fuzz",
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not LEDGER.tried:
        return
    terminalreporter.section("fuzz count")
    lines = LEDGER.summary_lines()
    for line in lines:
        terminalreporter.write_line(line)
    if LOG_DIR.is_dir():
        (LOG_DIR / "fuzz-count.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="package")
def fake_wechat_api() -> Iterator[FakeWeChatAPI]:
    with FakeWeChatAPI() as api:
        yield api


@pytest.fixture(scope="package")
def database_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('fuzz-db') / 'bookings.sqlite3'}"


@pytest.fixture(scope="package")
def assistant(fake_wechat_api: FakeWeChatAPI, database_url: str) -> Iterator[Assistant]:
    shutil.rmtree(LOG_DIR, ignore_errors=True)  # the servers append to their logs: this run's only
    env = {
        "DATABASE_URL": database_url,
        "BOT_NOW": BOT_NOW,
        "ACTION_SERVER_SECRET": SECRET,
        "SANIC_REQUEST_MAX_SIZE": str(MAX_REQUEST_BYTES),
        "RATE_LIMIT_PER_MINUTE": "100000",  # the limit would hide what the servers do with the input
        "REDIS_URL": "",  # this process's own counters and WeChat store
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_APPID": APPID,
        "WECHAT_SECRET": WECHAT_SECRET,
        "WECHAT_AES_KEY": AES_KEY,
        "WECHAT_API_BASE_URL": fake_wechat_api.base_url,
    }
    with Assistant(rasa_port=RASA_PORT, action_port=ACTION_PORT, env=env, log_dir=LOG_DIR) as running:
        yield running


@pytest.fixture(scope="package")
def initial_snapshot(assistant: Assistant, database_url: str) -> Dict[str, Any]:
    return snapshot(database_url)


@pytest.fixture(scope="package")
def fuzz(assistant: Assistant, initial_snapshot) -> FuzzClient:
    return FuzzClient(LEDGER)


def say(assistant: Assistant, sender: str, message: str) -> list:
    response = requests.post(f"{assistant.rasa_url}/webhooks/rest/webhook",
                             json={"sender": sender, "message": message}, timeout=60)
    response.raise_for_status()
    return response.json()


@pytest.fixture(scope="package")
def legitimate_booking(assistant: Assistant, database_url: str, initial_snapshot) -> Dict[str, Any]:
    """A booking made the only legitimate way: a citizen's complete, confirmed conversation over
    REST (Rasa calling the action server with the shared secret). The fuzzers must leave it alone."""
    before = {row["code"] for row in bookings(database_url)}
    sender = "fuzz-legitimate-citizen"
    for message in ("我想预约律师咨询", "下周三上午十点", "王建国", "138 0000 1234",
                    "安置房一直不交付，想问问怎么维权"):
        say(assistant, sender, message)
    replies = say(assistant, sender, "/affirm")
    text = "\n".join(r.get("text", "") for r in replies)
    made = [row for row in bookings(database_url) if row["code"] not in before]
    assert len(made) == 1, (text, made)
    row = made[0]
    assert row["code"] in text and "预约成功" in text, text
    assert (str(row["date"]), str(row["time"])[:5], row["phone"], row["status"]) == \
        ("2026-12-02", "10:00", "13800001234", "booked"), row
    LEGITIMATE_BOOKINGS[row["code"]] = row
    return row
