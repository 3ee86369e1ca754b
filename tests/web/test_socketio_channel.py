"""The socket.io channel the web page talks to: a socket joins the session it asks for (so the
assistant's answers reach it), gets a fresh session for an id Rasa would not have made, and may only
speak in its own session."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from unittest.mock import AsyncMock, MagicMock

import pytest
import yaml

from bot.web.socketio_channel import SocketIOInput, valid_session_id
from tests.conftest import ROOT

SESSION = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def channel():
    received = []

    async def on_new_message(message):
        received.append(message)

    channel = SocketIOInput(user_message_evt="user_uttered", bot_message_evt="bot_uttered",
                            session_persistence=True)
    channel.blueprint(on_new_message)
    sio = channel.sio
    rooms = {}
    sio.enter_room = AsyncMock(side_effect=lambda sid, room, namespace=None: rooms.setdefault(sid, {sid}).add(room))
    sio.leave_room = AsyncMock(side_effect=lambda sid, room, namespace=None: rooms[sid].discard(room))
    sio.rooms = MagicMock(side_effect=lambda sid, namespace=None: sorted(rooms.setdefault(sid, {sid})))
    sio.emit = AsyncMock()
    channel.received = received
    return channel


def run(coroutine):
    # in a thread of its own: Playwright's sync API may hold this thread's event loop (tests/web)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def call(channel, event, sid, data):
    run(channel.sio.handlers["/"][event](sid, data))


def test_a_socket_joins_the_session_it_asks_for(channel):
    call(channel, "session_request", "sid-1", {"session_id": SESSION})
    channel.sio.enter_room.assert_awaited_once_with("sid-1", SESSION, namespace="/")
    channel.sio.emit.assert_awaited_once_with("session_confirm", SESSION, room="sid-1", namespace="/")

    call(channel, "user_uttered", "sid-1", {"message": "你好", "session_id": SESSION})
    [message] = channel.received
    assert message.sender_id == SESSION and message.text == "你好"
    assert message.input_channel == "socketio"


@pytest.mark.parametrize("asked", [None, "", "1", "../x", "A" * 32, SESSION + "0", 42])
def test_an_id_rasa_would_not_make_gets_a_new_session(channel, asked):
    call(channel, "session_request", "sid-1", {"session_id": asked} if asked != "" else None)
    session = channel.sio.emit.await_args.args[1]
    assert re.fullmatch(r"[0-9a-f]{32}", session) and session != asked
    channel.sio.enter_room.assert_awaited_once_with("sid-1", session, namespace="/")


def test_a_socket_cannot_speak_in_another_session(channel):
    call(channel, "session_request", "sid-1", {"session_id": SESSION})
    other = "f" * 32
    call(channel, "user_uttered", "sid-1", {"message": "你好", "session_id": other})
    call(channel, "user_uttered", "sid-2", {"message": "你好", "session_id": SESSION})
    call(channel, "user_uttered", "sid-1", {"message": "你好"})
    call(channel, "user_uttered", "sid-1", "not an object")
    assert channel.received == []


def test_a_new_session_request_leaves_the_old_session(channel):
    call(channel, "session_request", "sid-1", {"session_id": SESSION})
    call(channel, "session_request", "sid-1", {"session_id": "f" * 32})
    assert channel.sio.rooms("sid-1") == sorted({"sid-1", "f" * 32})


def test_valid_session_ids():
    assert valid_session_id(SESSION) == SESSION
    assert valid_session_id(SESSION.upper()) is None and valid_session_id(None) is None


def test_credentials_use_this_channel():
    """Rasa's own ``socketio`` channel loses every answer with session persistence (RasaHQ/rasa#13027)."""
    credentials = yaml.safe_load(Path(ROOT / "credentials.yml").read_text(encoding="utf-8"))
    assert "socketio" not in credentials, "credentials.yml: use bot.web.socketio_channel.SocketIOInput"
    settings = credentials.get("bot.web.socketio_channel.SocketIOInput")
    assert settings == {
        "user_message_evt": "user_uttered",
        "bot_message_evt": "bot_uttered",
        "session_persistence": True,
    }


def test_pages_of_other_origins_cannot_connect(monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", "https://xf.example.gov.cn, http://localhost:8080")
    channel = SocketIOInput(session_persistence=True)

    async def on_new_message(message):
        pass

    channel.blueprint(on_new_message)
    connect = channel.sio.handlers["/"]["connect"]

    def allowed(origin):
        environ = {"HTTP_ORIGIN": origin} if origin else {}
        return run(connect("sid-1", environ, None))

    assert allowed("https://xf.example.gov.cn") and allowed("http://localhost:8080")
    assert not allowed("https://evil.example")
    assert allowed(None)  # not a browser page (an app, a test client): CORS does not apply


def test_a_long_message_gets_the_polite_reply_not_rasa(channel, monkeypatch):
    handled = []
    monkeypatch.setenv("MESSAGE_MAX_CHARS", "10")
    limited = SocketIOInput(session_persistence=False)

    async def on_new_message(message):
        handled.append(message)

    limited.blueprint(on_new_message)
    limited.sio.emit = AsyncMock()
    handler = limited.sio.handlers["/"]["user_uttered"]
    run(handler("sid-1", {"message": "我" * 11, "session_id": SESSION}))
    assert handled == []
    [reply] = [call.args[1] for call in limited.sio.emit.call_args_list]
    assert "11个字" in reply["text"]
