"""The action server answers Rasa only: a shared secret, a local bind address, no echo of bodies."""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.bot.channels.fake_wechat import free_port
from tests.conftest import ROOT

PORT = free_port()
SECRET = "shared-with-rasa"


def request(path, body=None, secret=None):
    headers = {"Content-Type": "application/json"}
    if secret:
        headers["X-Action-Server-Secret"] = secret
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def is_up():
    try:
        return request("/health")[0] == 200
    except (urllib.error.URLError, OSError):  # not listening yet
        return False


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = dict(os.environ, PYTHONPATH=str(ROOT), ACTION_SERVER_SECRET=SECRET,
               DATABASE_URL=f"sqlite:///{tmp_path_factory.mktemp('db') / 'bookings.sqlite3'}",
               BOT_NOW="2026-11-26T10:00:00+08:00")
    env.pop("SANIC_HOST", None)
    process = subprocess.Popen([sys.executable, "-m", "actions.server", "--port", str(PORT)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while not is_up():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("the action server did not start:\n" + process.communicate()[0].decode())
        time.sleep(0.3)
    yield process
    process.terminate()
    output = process.communicate(timeout=20)[0].decode()
    assert "13812345678" not in output  # personal data never reaches the log in clear


def action_call(phone="13812345678"):
    return {
        "next_action": "validate_lawyer_booking_form",
        "sender_id": "citizen-1",
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": "citizen-1",
            "slots": {"citizen_phone": phone, "requested_slot": "citizen_phone"},
            "latest_message": {"text": phone, "intent": {"name": "inform"}, "entities": []},
            "events": [],
            "active_loop": {"name": "lawyer_booking_form"},
        },
    }


def test_health_is_open_the_rest_needs_the_secret(server):
    assert request("/health")[0] == 200
    assert request("/actions")[0] == 401
    assert request("/actions", secret="wrong")[0] == 401
    assert request("/webhook", action_call())[0] == 401
    status, body = request("/actions", secret=SECRET)
    assert status == 200 and "validate_lawyer_booking_form" in body


def test_rasa_with_the_secret_is_served(server):
    status, body = request("/webhook", {**action_call(), "next_action": "action_ask_booking_date"}, secret=SECRET)
    assert status == 200, body
    [offer] = json.loads(body)["responses"]
    assert offer["response"] == "utter_booking_offer_dates" and offer["buttons"]


@pytest.mark.parametrize("body", [b"not json", b"[]", json.dumps({"next_action": "x"}).encode(),
                                  json.dumps({**action_call(), "tracker": {"sender_id": 5}}).encode()])
def test_malformed_calls_are_refused_without_echo(server, body):
    status, answer = request("/webhook", body, secret=SECRET)
    assert status == 400
    assert "13812345678" not in answer


def test_it_listens_on_the_local_address_only(server):
    import psutil

    # What the server's own process listens on, so the check runs on any machine (even one
    # whose only address is the loopback).
    listening = {
        connection.laddr.ip
        for process in [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]
        for connection in process.connections(kind="inet")
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == PORT
    }
    assert listening and listening <= {"127.0.0.1", "::1"}, listening
