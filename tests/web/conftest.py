"""The web chat page in a real headless Chromium (Debian's ``chromium`` driven by Playwright for Python),
against the real assistant and the page's own static server, on ports of their own."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from bot.web.serve import WIDGET, web_command
from scripts.assistant import Assistant
from tests.conftest import ROOT

ARTIFACTS = ROOT / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
RASA_PORT, ACTION_PORT, WEB_PORT = 16005, 16055, 16080


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def web_server():
    """bot/web/serve.py on WEB_PORT, pointing the page at Rasa on RASA_PORT of the same host."""
    if not WIDGET.is_file():
        pytest.fail(f"{WIDGET} is missing: run `npm ci --ignore-scripts && node bot/web/build.js`")
    log_dir = ARTIFACTS / "web-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with open(log_dir / "web.log", "ab") as log:
        process = subprocess.Popen(
            web_command(port=WEB_PORT, rasa_port=RASA_PORT, host="127.0.0.1"),
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{WEB_PORT}"
    deadline = time.monotonic() + 30
    while not _answers(f"{url}/healthz"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the page's server did not start; see {log_dir / 'web.log'}")
        time.sleep(0.2)
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def web_assistant(tmp_path_factory):
    """The action server and the Rasa server, with the clock at Thursday 2026-11-26 10:00."""
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8")) or {}
    if "bot.web.socketio_channel.SocketIOInput" not in credentials:
        pytest.fail(
            "credentials.yml must name bot.web.socketio_channel.SocketIOInput instead of socketio: Rasa's "
            "own channel loses every answer with session persistence (RasaHQ/rasa#13027)"
        )
    data_dir = tmp_path_factory.mktemp("web-db")
    env = {
        "DATABASE_URL": f"sqlite:///{data_dir / 'bookings.sqlite3'}",
        "BOT_NOW": "2026-11-26T10:00:00+08:00",
    }
    with Assistant(
        rasa_port=RASA_PORT, action_port=ACTION_PORT, env=env, enable_api=True,
        cors_origins=[f"http://127.0.0.1:{WEB_PORT}", f"http://localhost:{WEB_PORT}"],
        log_dir=ARTIFACTS / "web-logs",
    ) as running:
        yield running


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install -y chromium fonts-noto-cjk")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
