"""Every channel checks crisis language before its length limit: an over-long message with crisis
language reaches the assistant (as the part around the crisis phrase) instead of being refused. The
assistant here is the fake one of fake_wechat.py, which answers "收到：<text>"; that the real one gives
the safety reply to it is checked end to end (tests/e2e/test_conversation.py)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from unittest.mock import AsyncMock

import requests

from bot.channels.rest import RestInput
from bot.channels.wechat import WeChatInput
from bot.guard import MessageGuard
from bot.web.socketio_channel import SocketIOInput
from tests.bot.channels.fake_wechat import ChannelServer, FakeRasa, FakeWeChatAPI, WeChatSender, reply_content, text_xml
from tests.bot.channels.test_wechat import new_id, settings_for

LIMIT = 80
COMPLAINT = "拆迁款拖了三年，街道一直说在走流程，我们一家五口在外面租房。"
CRISIS = "我真的活够了，这样活着有什么意思。"
LONG_CRISIS = COMPLAINT * 6 + CRISIS + COMPLAINT * 6
LONG_PLAIN = COMPLAINT * 12
TOO_LONG_MARK = "超过了单条"


def test_rest() -> None:
    rasa = FakeRasa()
    channel = RestInput(guard=MessageGuard(max_chars=LIMIT, per_minute=0))
    with ChannelServer(channel, rasa) as server:
        url = f"http://127.0.0.1:{server.port}/webhooks/rest/webhook"
        crisis = requests.post(url, json={"sender": "c1", "message": LONG_CRISIS}, timeout=30)
        plain = requests.post(url, json={"sender": "c2", "message": LONG_PLAIN}, timeout=30)
    assert crisis.status_code == 200 and TOO_LONG_MARK not in crisis.text
    [excerpt] = rasa.texts()
    assert "活够了" in excerpt and len(excerpt) <= LIMIT
    assert TOO_LONG_MARK in plain.json()[0]["text"]


def test_wechat() -> None:
    with FakeWeChatAPI() as api:
        rasa = FakeRasa()
        channel = WeChatInput(settings_for(api))
        channel.guard = MessageGuard(max_chars=LIMIT, per_minute=0)
        with ChannelServer(channel, rasa) as server:
            sender = WeChatSender(server.webhook)
            crisis = sender.post(text_xml("oCrisis01", LONG_CRISIS, new_id()), openid="oCrisis01")
            plain = sender.post(text_xml("oPlain01", LONG_PLAIN, new_id()), openid="oPlain01")
    [excerpt] = rasa.texts()
    assert "活够了" in excerpt and len(excerpt) <= LIMIT
    assert reply_content(crisis.text)["Content"] == f"收到：{excerpt}"
    assert TOO_LONG_MARK in reply_content(plain.text)["Content"]


def test_socketio(monkeypatch) -> None:
    monkeypatch.setenv("MESSAGE_MAX_CHARS", str(LIMIT))
    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "0")
    handled = []
    channel = SocketIOInput(session_persistence=False)

    async def on_new_message(message):
        handled.append(message.text)

    channel.blueprint(on_new_message)
    channel.sio.emit = AsyncMock()
    handler = channel.sio.handlers["/"]["user_uttered"]

    async def say_both():
        await handler("sid-1", {"message": LONG_CRISIS})
        await handler("sid-2", {"message": LONG_PLAIN})

    with ThreadPoolExecutor(1) as pool:  # a loop of its own (see tests/web/test_socketio_channel.py)
        pool.submit(asyncio.run, say_both()).result()
    [excerpt] = handled
    assert "活够了" in excerpt and len(excerpt) <= LIMIT
    [refusal] = [call.args[1]["text"] for call in channel.sio.emit.call_args_list]
    assert TOO_LONG_MARK in refusal
