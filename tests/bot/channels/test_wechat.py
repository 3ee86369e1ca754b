"""The WeChat official account channel, against a fake WeChat on 127.0.0.1.

Requests are signed (and in safe mode encrypted) exactly as WeChat's servers do; the channel's
blueprint runs in a real Sanic server; "Rasa" is a small handler answering through the output
channel it is given; 客服 messages and token requests reach a fake WeChat API server.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from typing import Iterator, List

import pytest
import requests
from wechatpy.exceptions import WeChatClientException

import bot.channels.wechat as wechat
from bot.channels.wechat import (
    ASK_FOR_TEXT,
    SORRY,
    TEXT_LIMIT_BYTES,
    VOICE_NOT_RECOGNISED,
    InMemoryTTLStore,
    WeChatAPI,
    WeChatInput,
    WeChatOutput,
    WeChatSettings,
    render_messages,
    selected_payload,
    split_text,
)
from tests.bot.channels.fake_wechat import (
    AES_KEY,
    APPID,
    SECRET,
    TOKEN,
    ChannelServer,
    FakeRasa,
    FakeWeChatAPI,
    WeChatSender,
    event_xml,
    image_xml,
    reply_content,
    sign,
    text_xml,
    voice_xml,
)

REPLY_TIMEOUT = 1.0  # the channel's passive reply budget in these tests (3 s by default)
SLOW = 2.0  # how long the fake Rasa takes for messages starting with 慢

_ids = itertools.count(int(time.time()) * 1000)


def new_id() -> int:
    return next(_ids)


def settings_for(api: FakeWeChatAPI, **overrides) -> WeChatSettings:
    values = dict(
        token=TOKEN,
        appid=APPID,
        secret=SECRET,
        aes_key=AES_KEY,
        api_base_url=api.base_url,
        reply_timeout=REPLY_TIMEOUT,
    )
    values.update(overrides)
    return WeChatSettings(**values)


class WeChat:
    """A running channel with its fake WeChat API, a signing sender and the fake Rasa."""

    def __init__(self, api: FakeWeChatAPI, server: ChannelServer, rasa: FakeRasa) -> None:
        self.api = api
        self.server = server
        self.rasa = rasa
        self.sender = WeChatSender(server.webhook)

    def say(self, openid: str, text: str, *, safe: bool = False, msg_id: int = 0) -> requests.Response:
        return self.sender.post(text_xml(openid, text, msg_id or new_id()), safe=safe, openid=openid)

    def reply_text(self, response: requests.Response, *, safe: bool = False) -> str:
        assert response.status_code == 200, response.text
        if response.text == "success":
            return ""
        xml = self.sender.decrypt_reply(response) if safe else response.text
        return reply_content(xml)["Content"]


@pytest.fixture
def fake_api() -> Iterator[FakeWeChatAPI]:
    with FakeWeChatAPI() as api:
        yield api


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa(slow_delay=SLOW)


@pytest.fixture
def channel(fake_api: FakeWeChatAPI) -> WeChatInput:
    return WeChatInput(settings_for(fake_api))


@pytest.fixture
def chat(fake_api: FakeWeChatAPI, channel: WeChatInput, rasa: FakeRasa) -> Iterator[WeChat]:
    with ChannelServer(channel, rasa) as server:
        yield WeChat(fake_api, server, rasa)


# --------------------------------------------------------------------------- verification


def test_verification_answers_echostr_when_signed(chat: WeChat) -> None:
    response = chat.sender.verify("7429180153816420123")
    assert response.status_code == 200
    assert response.text == "7429180153816420123"


def test_verification_with_bad_or_missing_signature_is_refused(chat: WeChat) -> None:
    assert chat.sender.verify(forged=True).status_code == 403
    bare = requests.get(chat.server.webhook, params={"echostr": "x"}, timeout=10)
    assert bare.status_code == 403
    assert "x" not in bare.text


# --------------------------------------------------------------------------- signatures


def test_forged_post_is_refused_before_anything_else(chat: WeChat, monkeypatch) -> None:
    parsed: List[str] = []
    monkeypatch.setattr(wechat, "parse_message", lambda xml: parsed.append(xml))

    forged = chat.sender.post(text_xml("oForger", "你好", new_id()), forged=True)
    unsigned = requests.post(chat.server.webhook, data=text_xml("oForger", "你好", new_id()), timeout=10)

    assert forged.status_code == 403
    assert unsigned.status_code == 403
    assert parsed == []
    assert chat.rasa.received == []


def test_a_captured_request_replayed_later_is_refused(chat: WeChat) -> None:
    """Rightly signed, but from long ago: replayed after the de-duplication store forgot it."""
    xml = text_xml("oUser", "你好", new_id())
    for timestamp in (str(int(time.time()) - 3600), str(int(time.time()) + 3600), "yesterday"):
        nonce = "replayed"
        query = {"signature": sign(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
        response = requests.post(chat.server.webhook, params=query, data=xml.encode(), timeout=10)
        assert response.status_code == 403
    assert chat.rasa.received == []


def test_safe_mode_with_forged_msg_signature_is_refused(chat: WeChat) -> None:
    response = chat.sender.post(text_xml("oUser", "你好", new_id()), safe=True, forged=True)
    assert response.status_code == 403
    assert chat.rasa.received == []

    # The right URL signature alone is not enough: msg_signature must match the Encrypt field.
    good = WeChatSender(chat.server.webhook)
    crafted = good.post(text_xml("oUser", "你好", new_id()), safe=True)
    assert crafted.status_code == 200
    tampered_sender = WeChatSender(chat.server.webhook, aes_key="B" * 43)
    tampered = tampered_sender.post(text_xml("oUser", "你好", new_id()), safe=True)
    assert tampered.status_code in (400, 403)  # right signatures, but not encrypted with our key
    assert chat.rasa.texts() == ["你好"]


# --------------------------------------------------------------------------- answers


def test_text_is_answered_passively_with_the_openid_as_sender(chat: WeChat) -> None:
    response = chat.say("oCitizen001", "我想问一下信访流程")

    assert response.headers["content-type"].startswith("application/xml")
    reply = reply_content(response.text)
    assert reply["MsgType"] == "text"
    assert reply["Content"] == "收到：我想问一下信访流程"
    assert reply["ToUserName"] == "oCitizen001"
    assert reply["FromUserName"] == "gh_bureau0001"
    assert chat.rasa.received == [("oCitizen001", "我想问一下信访流程", "wechat")]


def test_safe_mode_message_is_decrypted_and_the_reply_encrypted(chat: WeChat) -> None:
    response = chat.say("oSafeUser", "安全模式你好", safe=True)

    assert "<Encrypt>" in response.text and "收到" not in response.text
    assert chat.reply_text(response, safe=True) == "收到：安全模式你好"
    assert chat.rasa.received == [("oSafeUser", "安全模式你好", "wechat")]


def test_replayed_msg_id_is_processed_once(chat: WeChat) -> None:
    msg_id = new_id()
    first = chat.say("oRetry", "重复的消息", msg_id=msg_id)
    retries = [chat.say("oRetry", "重复的消息", msg_id=msg_id) for _ in range(3)]

    assert chat.rasa.texts() == ["重复的消息"]
    # A retry means WeChat did not get the first answer: it gets the same one again.
    assert {chat.reply_text(r) for r in [first, *retries]} == {"收到：重复的消息"}


def test_replayed_event_is_processed_once(chat: WeChat) -> None:
    xml = event_xml("oNewFollower", "subscribe", int(time.time()))
    for _ in range(3):
        assert chat.sender.post(xml).status_code == 200
    assert chat.rasa.texts() == ["/greet"]


def test_slow_answer_is_acknowledged_at_once_and_sent_through_the_customer_service_api(chat: WeChat) -> None:
    chat.rasa.hold_slow_answers()  # Rasa thinks until the test says so: no race with the clock
    response = chat.say("oSlowUser", "慢慢说")

    # The acknowledgement came while Rasa was still thinking; how fast it comes is measured by
    # `make benchmark-wechat`, not asserted here.
    assert response.status_code == 200 and response.text == "success"
    assert chat.api.delivered() == []

    chat.rasa.release_slow_answers()
    assert chat.api.wait_for_deliveries(1, timeout=SLOW + 5) == [("oSlowUser", "收到：慢慢说")]
    send = chat.api.send_calls()[0]
    assert send.body == {"touser": "oSlowUser", "msgtype": "text", "text": {"content": "收到：慢慢说"}}
    assert send.query["access_token"] == "ACCESS_TOKEN_1"


def test_retry_during_a_slow_answer_is_not_processed_again_and_the_answer_comes_once(fake_api, channel, rasa) -> None:
    rasa.hold_slow_answers()
    with ChannelServer(channel, rasa) as server:
        chat = WeChat(fake_api, server, rasa)
        msg_id = new_id()
        first = chat.say("oImpatient", "慢一点也行", msg_id=msg_id)
        retry = chat.say("oImpatient", "慢一点也行", msg_id=msg_id)
        rasa.release_slow_answers()
    # The server stops only after every answer on its way was sent: nothing more can come.
    assert first.text == retry.text == "success"
    assert fake_api.delivered() == [("oImpatient", "收到：慢一点也行")]
    assert rasa.texts() == ["慢一点也行"]


def test_answers_on_their_way_are_sent_before_the_server_stops(fake_api, channel, rasa) -> None:
    rasa.hold_slow_answers()
    with ChannelServer(channel, rasa) as server:
        chat = WeChat(fake_api, server, rasa)
        assert chat.say("oLeaving", "慢慢说").text == "success"
        assert chat.api.delivered() == []
        rasa.release_slow_answers()  # still thinking when the replica is told to stop
    assert chat.api.delivered() == [("oLeaving", "收到：慢慢说")]


def test_several_messages_merge_and_long_answers_are_split(fake_api, channel, rasa) -> None:
    with ChannelServer(channel, rasa) as server:
        response = WeChat(fake_api, server, rasa).say("oReader", "长")
    # Stopped: every part on its way has been sent.

    assert response.text == "success"  # too long for one passive reply
    texts = [text for openid, text in fake_api.delivered() if openid == "oReader"]
    assert len(texts) >= 2
    assert all(len(text.encode("utf-8")) <= TEXT_LIMIT_BYTES for text in texts)
    joined = "\n\n".join(texts)
    assert [joined.count(f"第{n}段") for n in (1, 2, 3)] == [1, 1, 1]
    assert joined.index("第1段") < joined.index("第2段") < joined.index("第3段")


def test_buttons_become_numbered_options_and_a_number_selects_the_payload(chat: WeChat) -> None:
    greeting = chat.reply_text(chat.sender.post(event_xml("oMenuUser", "subscribe", int(time.time()))))
    assert greeting.splitlines() == [FakeRasa.WELCOME, "回复 1 预约律师咨询", "回复 2 信访渠道"]

    assert chat.reply_text(chat.say("oMenuUser", "1")) == "好的。请问您想预约哪一天？"
    assert chat.rasa.texts()[-1] == "/book_lawyer"

    # That answer offered no options: a number is text again.
    chat.say("oMenuUser", "2")
    assert chat.rasa.texts()[-1] == "2"

    # Full-width digits and spaces count; options are per user; out of range is plain text.
    chat.sender.post(event_xml("oMenuUser", "subscribe", int(time.time()) + 1))
    chat.say("oOtherUser", "2")
    chat.say("oMenuUser", "3")
    assert chat.rasa.texts()[-2:] == ["2", "3"]
    chat.sender.post(event_xml("oMenuUser", "subscribe", int(time.time()) + 2))
    chat.say("oMenuUser", " ２ ")
    assert chat.rasa.texts()[-1] == "/ask_channels"


def test_numbered_options_also_work_in_safe_mode_and_through_the_customer_service_api(
    fake_api: FakeWeChatAPI, channel: WeChatInput
) -> None:
    slow_rasa = FakeRasa(delay=SLOW)
    with ChannelServer(channel, slow_rasa) as server:
        chat = WeChat(fake_api, server, slow_rasa)
        response = chat.sender.post(event_xml("oSlowMenu", "subscribe", int(time.time())), safe=True)
        assert response.text == "success"
        [(openid, text)] = fake_api.wait_for_deliveries(1, timeout=SLOW + 5)
        assert openid == "oSlowMenu" and "回复 1 预约律师咨询" in text
        assert chat.say("oSlowMenu", "1", safe=True).text == "success"
        assert slow_rasa.texts() == ["/greet", "/book_lawyer"]
        assert fake_api.wait_for_deliveries(2, timeout=SLOW + 5)[-1] == ("oSlowMenu", "好的。请问您想预约哪一天？")


def test_voice_is_understood_through_recognition(chat: WeChat) -> None:
    response = chat.sender.post(voice_xml("oSpeaker", "我要预约律师", new_id()))
    assert chat.reply_text(response) == "收到：我要预约律师"
    assert chat.rasa.texts() == ["我要预约律师"]


def test_voice_without_recognition_asks_for_text(chat: WeChat) -> None:
    response = chat.sender.post(voice_xml("oSpeaker", "", new_id()))
    assert chat.reply_text(response) == VOICE_NOT_RECOGNISED
    assert chat.rasa.received == []


def test_subscribe_sends_the_greeting_and_unsubscribe_gets_no_reply(chat: WeChat) -> None:
    welcome = chat.reply_text(chat.sender.post(event_xml("oFan", "subscribe", int(time.time()))))
    assert welcome.startswith(FakeRasa.WELCOME)

    # Subscribing by scanning the bureau's QR code is a subscription too.
    scanned = chat.sender.post(event_xml("oScanner", "subscribe", int(time.time()), "qrscene_123"))
    assert chat.reply_text(scanned).startswith(FakeRasa.WELCOME)

    goodbye = chat.sender.post(event_xml("oFan", "unsubscribe", int(time.time()) + 1))
    assert goodbye.text == "success"
    assert chat.rasa.texts() == ["/greet", "/greet"]


def test_menu_click_with_a_payload_goes_to_rasa(chat: WeChat) -> None:
    clicked = chat.sender.post(event_xml("oClicker", "CLICK", int(time.time()), "/book_lawyer"))
    assert chat.reply_text(clicked) == "好的。请问您想预约哪一天？"
    other = chat.sender.post(event_xml("oClicker", "CLICK", int(time.time()) + 1, "MENU_NEWS"))
    assert chat.reply_text(other) == ASK_FOR_TEXT
    located = chat.sender.post(event_xml("oClicker", "LOCATION", int(time.time()) + 2))
    assert located.text == "success"
    assert chat.rasa.texts() == ["/book_lawyer"]


@pytest.mark.parametrize(
    "xml",
    [
        image_xml("oSnapper", new_id()),
        text_xml("oSnapper", "", new_id()).replace("<MsgType><![CDATA[text]]>", "<MsgType><![CDATA[location]]>")
        + "",
        (
            "<xml><ToUserName><![CDATA[gh_bureau0001]]></ToUserName><FromUserName><![CDATA[oSnapper]]>"
            "</FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[link]]></MsgType>"
            "<Title><![CDATA[标题]]></Title><Url><![CDATA[http://example.com]]></Url>"
            f"<MsgId>{new_id()}</MsgId></xml>"
        ),
    ],
    ids=["image", "location", "link"],
)
def test_other_messages_get_a_polite_request_for_text(chat: WeChat, xml: str) -> None:
    response = chat.sender.post(xml)
    assert chat.reply_text(response) == ASK_FOR_TEXT
    assert chat.rasa.received == []


def test_a_failure_in_rasa_gets_an_apology(chat: WeChat) -> None:
    assert chat.reply_text(chat.say("oUnlucky", "坏")) == SORRY


# --------------------------------------------------------------------------- hostile requests


XXE = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName><![CDATA[gh_bureau0001]]></ToUserName><FromUserName><![CDATA[oAttacker]]></FromUserName>
<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>&xxe;</Content>
<MsgId>42</MsgId></xml>"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE xml [
<!ENTITY lol "lol">
<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<xml><ToUserName><![CDATA[gh_bureau0001]]></ToUserName><FromUserName><![CDATA[oAttacker]]></FromUserName>
<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>&lol9;</Content>
<MsgId>43</MsgId></xml>"""

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/evil.dtd">
<xml><FromUserName>oAttacker</FromUserName><MsgType>text</MsgType><Content>x</Content><MsgId>44</MsgId></xml>"""


@pytest.mark.parametrize("safe", [False, True], ids=["plain", "safe"])
@pytest.mark.parametrize(
    "hostile", [XXE, BILLION_LAUGHS, EXTERNAL_DTD], ids=["xxe", "billion-laughs", "external-dtd"]
)
def test_hostile_xml_is_refused_before_wechatpy_parses_it(chat: WeChat, monkeypatch, hostile: str, safe: bool) -> None:
    parsed: List[str] = []
    monkeypatch.setattr(wechat, "parse_message", lambda xml: parsed.append(xml))

    response = chat.sender.post(hostile, safe=safe)

    assert response.status_code == 400
    assert "root:" not in response.text and "lol" not in response.text
    assert parsed == []
    assert chat.rasa.received == []


def test_malformed_xml_is_refused(chat: WeChat) -> None:
    assert chat.sender.post("<xml><MsgType>text</xml>").status_code == 400
    assert chat.sender.post("<notwechat/>").status_code == 400
    assert chat.sender.post("<xml><Content>no type</Content></xml>").status_code == 400


def test_oversized_body_is_refused(chat: WeChat) -> None:
    big = text_xml("oVerbose", "很长" * 40_000, new_id())
    assert len(big.encode("utf-8")) > 64 * 1024
    assert chat.sender.post(big).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer encoding
        for _ in range(100):
            yield b"<xml>" + b"x" * 4096

    chunked = chat.sender.session.post(
        chat.server.webhook, params=chat.sender._signed(), data=chunks(), timeout=10
    )
    assert chunked.status_code == 413
    assert chat.rasa.received == []
    # The server still serves.
    assert chat.reply_text(chat.say("oVerbose", "短")) == "收到：短"


# --------------------------------------------------------------------------- settings


def _clear_wechat_env(monkeypatch) -> None:
    for name in ("WECHAT_TOKEN", "WECHAT_APPID", "WECHAT_SECRET", "WECHAT_AES_KEY", "WECHAT_API_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_missing_settings_are_named_at_start_up_and_the_webhook_says_so(monkeypatch, caplog) -> None:
    from rasa.core.run import _create_single_channel

    _clear_wechat_env(monkeypatch)
    monkeypatch.setenv("WECHAT_APPID", APPID)
    with caplog.at_level(logging.ERROR, logger="bot.channels.wechat"):
        # What `rasa run` does with the credentials.yml entry: it must not raise.
        channel = _create_single_channel("bot.channels.wechat.WeChatInput", None)

    assert isinstance(channel, WeChatInput)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "WeChat channel is not configured" in errors[0]
    for name in ("WECHAT_TOKEN", "WECHAT_SECRET", "WECHAT_AES_KEY"):
        assert name in errors[0]
    assert "WECHAT_APPID" not in errors[0]
    assert channel.get_output_channel() is None

    rasa = FakeRasa()
    with ChannelServer(channel, rasa) as server:
        sender = WeChatSender(server.webhook)
        for response in (sender.verify(), sender.post(text_xml("oUser", "你好", new_id()))):
            assert response.status_code == 503
            assert "WECHAT_TOKEN" in response.text and "WECHAT_SECRET" in response.text
        health = requests.get(server.webhook.rsplit("/", 1)[0] + "/", timeout=10)
        assert health.status_code == 503
    assert rasa.received == []


def test_an_invalid_aes_key_is_a_clear_error(fake_api: FakeWeChatAPI, caplog) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.channels.wechat"):
        channel = WeChatInput(settings_for(fake_api, aes_key="too-short"))
    assert "WECHAT_AES_KEY is not a valid EncodingAESKey" in channel.problem


def test_settings_come_from_credentials_with_the_environment_as_fallback(monkeypatch) -> None:
    _clear_wechat_env(monkeypatch)
    monkeypatch.setenv("WECHAT_TOKEN", "env-token")
    monkeypatch.setenv("WECHAT_APPID", "env-appid")
    monkeypatch.setenv("WECHAT_SECRET", "env-secret")
    monkeypatch.setenv("WECHAT_AES_KEY", AES_KEY)
    monkeypatch.setenv("WECHAT_API_BASE_URL", "http://127.0.0.1:8999/cgi-bin/")

    settings = WeChatSettings.from_credentials({"token": "yml-token", "secret": "", "reply_timeout": 2.5})

    assert settings.token == "yml-token"
    assert settings.secret == "env-secret"
    assert settings.appid == "env-appid"
    assert settings.api_base_url == "http://127.0.0.1:8999"
    assert settings.reply_timeout == 2.5
    assert settings.problems == []

    _clear_wechat_env(monkeypatch)
    assert WeChatSettings.from_credentials(None).api_base_url == "https://api.weixin.qq.com"


def test_the_channel_is_mounted_where_the_contract_says(monkeypatch, fake_api: FakeWeChatAPI) -> None:
    from rasa.core.run import _create_single_channel

    monkeypatch.setenv("WECHAT_TOKEN", TOKEN)
    monkeypatch.setenv("WECHAT_APPID", APPID)
    monkeypatch.setenv("WECHAT_SECRET", SECRET)
    monkeypatch.setenv("WECHAT_AES_KEY", AES_KEY)
    monkeypatch.setenv("WECHAT_API_BASE_URL", fake_api.base_url)
    channel = _create_single_channel("bot.channels.wechat.WeChatInput", {})
    assert channel.problem is None
    assert channel.name() == channel.url_prefix() == "wechat"
    rasa = FakeRasa()
    with ChannelServer(channel, rasa) as server:
        assert server.webhook.endswith("/webhooks/wechat/webhook")
        assert WeChatSender(server.webhook).verify("ok").text == "ok"


# --------------------------------------------------------------------------- access token


def _send(api: WeChatAPI, openid: str, text: str) -> None:
    asyncio.run(api.send_text(openid, text))


def test_token_is_fetched_once_and_cached(fake_api: FakeWeChatAPI) -> None:
    api = WeChatAPI(APPID, SECRET, fake_api.base_url)
    for number in range(3):
        _send(api, "oCached", f"消息{number}")

    assert len(fake_api.token_calls()) == 1
    assert fake_api.token_calls()[0].query == {
        "grant_type": "client_credential",
        "appid": APPID,
        "secret": SECRET,
    }
    assert [text for _, text in fake_api.delivered()] == ["消息0", "消息1", "消息2"]


def test_token_is_fetched_again_shortly_before_it_expires(fake_api: FakeWeChatAPI) -> None:
    api = WeChatAPI(APPID, SECRET, fake_api.base_url)
    _send(api, "oUser", "一")
    api.client.expires_at = time.time() + 30  # half a minute left
    _send(api, "oUser", "二")
    assert len(fake_api.token_calls()) == 2
    assert len(fake_api.delivered()) == 2


def test_expired_token_is_refreshed_once_and_the_message_resent(fake_api: FakeWeChatAPI) -> None:
    api = WeChatAPI(APPID, SECRET, fake_api.base_url)
    _send(api, "oUser", "预热")
    fake_api.expire_next_sends = 1
    _send(api, "oUser", "过期后")

    assert len(fake_api.token_calls()) == 2
    sends = fake_api.send_calls()
    assert [call.answer["errcode"] for call in sends] == [0, 42001, 0]
    assert sends[-1].query["access_token"] == "ACCESS_TOKEN_2"
    assert fake_api.delivered()[-1] == ("oUser", "过期后")


def test_token_is_refreshed_only_once_when_wechat_keeps_refusing(fake_api: FakeWeChatAPI) -> None:
    api = WeChatAPI(APPID, SECRET, fake_api.base_url)
    fake_api.expire_next_sends = 10
    with pytest.raises(WeChatClientException) as refused:
        _send(api, "oUser", "总是过期")
    assert refused.value.errcode == 42001
    assert len(fake_api.token_calls()) == 2
    assert len(fake_api.send_calls()) == 2


def test_customer_service_calls_do_not_block_the_event_loop(fake_api: FakeWeChatAPI) -> None:
    fake_api.hold_sends()  # WeChat's API does not answer the 客服 call until the test releases it
    slow_rasa = FakeRasa(slow_delay=REPLY_TIMEOUT + 0.2)
    with ChannelServer(WeChatInput(settings_for(fake_api)), slow_rasa) as server:
        chat = WeChat(fake_api, server, slow_rasa)
        assert chat.say("oFirst", "慢").text == "success"
        assert fake_api.send_arrived.wait(timeout=15)  # the 客服 call for oFirst is now waiting

        # A blocking call would stop the loop: this message could not be answered passively.
        assert chat.reply_text(chat.say("oSecond", "快")) == "收到：快"
        assert fake_api.delivered() == []

        fake_api.release_sends()
        assert fake_api.wait_for_deliveries(1, timeout=15) == [("oFirst", "收到：慢")]


def test_output_channel_sends_outside_a_turn(fake_api: FakeWeChatAPI, channel: WeChatInput) -> None:
    output = channel.get_output_channel()
    assert isinstance(output, WeChatOutput) and output.name() == "wechat"

    async def remind() -> List[str]:
        await output.send_response(
            "oReminded",
            {"text": "您的预约在明天上午。", "buttons": [{"title": "取消预约", "payload": "/cancel_booking"}]},
        )
        return await output.offered_payloads("oReminded")

    assert asyncio.run(remind()) == ["/cancel_booking"]
    assert fake_api.delivered() == [("oReminded", "您的预约在明天上午。\n回复 1 取消预约")]


# --------------------------------------------------------------------------- privacy


def test_logs_carry_no_openid_and_no_content(fake_api, channel, rasa, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with ChannelServer(channel, rasa) as server:
        chat = WeChat(fake_api, server, rasa)
        chat.say("oPrivateCitizen42", "我的身份证号是110101199001011234")
        chat.say("oPrivateCitizen42", "慢慢讲我的私事")
        chat.sender.post(image_xml("oPrivateCitizen42", new_id()))
    # Stopped after the slow answer went out: every line it logs is in.
    assert fake_api.delivered()[-1] == ("oPrivateCitizen42", "收到：慢慢讲我的私事")

    # (urllib3's lines about the test's own requests to the webhook are WeChat's side, not ours)
    logged = "\n".join(
        record.getMessage()
        for record in caplog.records
        if "/webhooks/wechat/webhook" not in record.getMessage()
    )
    assert "wechat:" in logged
    assert "oPrivateCitizen42" not in logged
    for secret in ("110101199001011234", "身份证", "私事", "收到"):
        assert secret not in logged
    assert wechat.anonymize("oPrivateCitizen42") in logged


def test_access_log_shows_the_openid_hashed() -> None:
    record = logging.LogRecord("sanic.access", logging.INFO, __file__, 1, "", None, None)
    record.request = "POST http://host/webhooks/wechat/webhook?signature=s&openid=oSecretUser&nonce=1"
    wechat._OpenidRedactingFilter().filter(record)
    assert "oSecretUser" not in record.request
    assert f"openid={wechat.anonymize('oSecretUser')}&nonce=1" in record.request


# --------------------------------------------------------------------------- pieces


def test_render_merges_messages_and_numbers_buttons_across_them() -> None:
    text, payloads = render_messages(
        [
            {"recipient_id": "u", "text": "第一条"},
            {"recipient_id": "u", "text": "请选择：", "buttons": [{"title": "预约律师", "payload": "/book_lawyer"}]},
            {"recipient_id": "u", "text": "或者：", "buttons": [{"title": "查询进度", "payload": "/ask_progress"}]},
            {"recipient_id": "u", "image": "https://example.org/map.png"},
            {"recipient_id": "u", "custom": {"text": "自定义 ]]> 文本"}},
            {"recipient_id": "u", "custom": {"kind": "no text"}},
        ]
    )
    assert text == (
        "第一条\n\n请选择：\n回复 1 预约律师\n\n或者：\n回复 2 查询进度\n\n"
        "图片：https://example.org/map.png\n\n自定义 ]]> 文本"
    )
    assert payloads == ["/book_lawyer", "/ask_progress"]


def test_cdata_end_in_a_reply_stays_well_formed(chat: WeChat) -> None:
    assert chat.reply_text(chat.say("oTricky", "a]]>b<c")) == "收到：a]]>b<c"


def test_split_text_keeps_every_piece_within_the_byte_limit() -> None:
    paragraph = "信访事项应当依法按程序办理。" * 30  # 420 characters, 1260 bytes
    text = "\n\n".join([paragraph] * 5) + "\n" + "长" * 2000
    pieces = split_text(text, 2048)
    assert all(len(piece.encode("utf-8")) <= 2048 for piece in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")
    assert split_text("短消息") == ["短消息"]


@pytest.mark.parametrize(
    "said, expected",
    [("1", "/a"), ("２", "/b"), (" 2 ", "/b"), ("3", None), ("0", None), ("一", None), ("1个", None), ("", None)],
)
def test_selected_payload(said: str, expected) -> None:
    assert selected_payload(said, ["/a", "/b"]) == expected


def test_in_memory_store_expires_and_stays_bounded() -> None:
    now = [0.0]
    store = InMemoryTTLStore(max_entries=3, clock=lambda: now[0])

    async def scenario() -> None:
        assert await store.add("k", "1", 10)
        assert not await store.add("k", "1", 10)
        now[0] = 11
        assert await store.get("k") is None
        assert await store.add("k", "2", 10)
        for key in ("a", "b", "c"):
            await store.set(key, key, 100)
        assert await store.get("k") is None  # the oldest went first
        assert await store.get("c") == "c"
        await store.delete("c")
        assert await store.get("c") is None

    asyncio.run(scenario())
