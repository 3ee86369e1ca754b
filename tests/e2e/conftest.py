"""Start the real assistant (action server + Rasa server) once for the end-to-end tests."""

import json
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest

from scripts.assistant import Assistant
from tests.conftest import ROOT

ARTIFACTS = ROOT / "artifacts"


class Client:
    """A citizen talking to the assistant over the REST channel."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    def new_sender(self) -> str:
        return f"test-{uuid.uuid4().hex[:12]}"

    def say(self, sender: str, message: str) -> List[Dict[str, Any]]:
        body = json.dumps({"sender": sender, "message": message}).encode()
        request = urllib.request.Request(
            f"{self.assistant.rasa_url}/webhooks/rest/webhook",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            replies = json.loads(response.read())
        # The assistant never falls over (utter_default is Rasa's last resort).
        assert not any("没处理好" in r.get("text", "") for r in replies), (message, replies)
        return replies

    def tracker(self, sender: str) -> Dict[str, Any]:
        with urllib.request.urlopen(
            f"{self.assistant.rasa_url}/conversations/{sender}/tracker?token={self.assistant.auth_token}",
            timeout=30,
        ) as response:
            return json.loads(response.read())

    def slot(self, sender: str, name: str) -> Any:
        return self.tracker(sender)["slots"].get(name)


@pytest.fixture(scope="session")
def assistant(tmp_path_factory):
    data_dir: Path = tmp_path_factory.mktemp("e2e-db")
    env = {
        "DATABASE_URL": f"sqlite:///{data_dir / 'bookings.sqlite3'}",
        "BOT_NOW": "2026-11-26T10:00:00+08:00",
    }
    with Assistant(
        rasa_port=15005, action_port=15055, env=env, enable_api=True, log_dir=ARTIFACTS / "e2e-logs"
    ) as running:
        yield running


@pytest.fixture(scope="session")
def client(assistant) -> Client:
    return Client(assistant)
