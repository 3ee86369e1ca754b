"""Fuzzing the WeChat webhook of the Rasa server, GET and POST /webhooks/wechat/webhook
(bot/channels/wechat.py), signed (and in safe mode encrypted) as WeChat's servers do.

Properties: never a 5xx; the verification echoes ``echostr`` exactly when the signature is right and
answers 403 otherwise; a POST with a wrong or missing signature is 403 whatever its body; XML with a
DTD (entity expansion, external entities) is 400; a body over 64 KiB is 413; a signed body is
answered 200 ("success" or a passive reply to its sender) or 4xx; safe mode with a wrong key,
signature or frame is refused with 4xx; and nothing said over WeChat creates or changes a booking.
"""

from __future__ import annotations

import base64
import os
import socket
import struct
import time
from typing import Any, Dict, Optional
from urllib.parse import quote

import pytest
from defusedxml.ElementTree import fromstring
from hypothesis import example, given
from hypothesis import strategies as st
from wechatpy.crypto import WeChatCrypto
from wechatpy.crypto.base import WeChatCipher
from wechatpy.crypto.pkcs7 import PKCS7Encoder

from bot.channels.wechat import MAX_REQUEST_AGE
from tests.bot.channels.fake_wechat import ACCOUNT, AES_KEY, APPID, TOKEN, sign, text_xml
from tests.fuzz.harness import WECHAT_GET, WECHAT_MAX_BODY, WECHAT_POST, fuzz_settings, snapshot
from tests.fuzz.strategies import (
    XML_BOMBS,
    cdata,
    content_types,
    entity_bombs,
    malformed_json_bytes,
    nasty_text,
    wechat_documents,
)

pytestmark = pytest.mark.e2e

KEY = base64.b64decode(AES_KEY + "=")
MAX_HEADER_BYTES = 8192
query_values = st.one_of(st.text(max_size=30), st.sampled_from(["", "0", "-1", "1" * 40, "%00", "&a=b", "\x00"]))


def webhook(assistant) -> str:
    return f"{assistant.rasa_url}/webhooks/wechat/webhook"


def url_with(base: str, params: Dict[str, Any]) -> str:
    """A URL with each value percent-encoded as UTF-8 (lone surrogates too, as invalid bytes)."""
    def enc(value: Any) -> str:
        raw = value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")
        return quote(raw, safe="")
    return base + "?" + "&".join(f"{enc(k)}={enc(v)}" for k, v in params.items())


def signed(timestamp: Optional[str] = None, nonce: Optional[str] = None, token: str = TOKEN) -> Dict[str, str]:
    timestamp = timestamp if timestamp is not None else str(int(time.time()))
    nonce = nonce if nonce is not None else os.urandom(5).hex()
    return {"signature": sign(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}


def check_reply(response) -> None:
    """A 200 is "success" or a passive text reply (XML) from the account."""
    assert response.status_code == 200
    if response.text == "success":
        return
    reply = fromstring(response.content)
    assert reply.tag == "xml", response.text[:200]
    if reply.findtext("Encrypt") is None:
        assert reply.findtext("MsgType") == "text", response.text[:200]


@pytest.fixture(scope="module", autouse=True)
def no_booking_from_wechat(fuzz, database_url, legitimate_booking):
    """(c) Nothing said over WeChat by the fuzzers creates or changes a booking."""
    before = snapshot(database_url)
    yield
    assert snapshot(database_url) == before


# --------------------------------------------------------------------------- verification (GET)


def fresh(timestamp: str) -> bool:
    """Whether the channel takes the timestamp as current (within MAX_REQUEST_AGE)."""
    try:
        return abs(time.time() - int(timestamp)) <= MAX_REQUEST_AGE
    except (ValueError, OverflowError):
        return False


fresh_timestamps = st.integers(min_value=-250, max_value=250).map(lambda offset: ("offset", offset))
other_timestamps = st.one_of(
    st.integers(min_value=-10**9, max_value=10**9).filter(lambda o: abs(o) > 350).map(lambda o: ("offset", o)),
    query_values.map(lambda raw: ("raw", raw)),
    st.sampled_from(["9" * 400, "-" + "9" * 400, "9" * 5000, "1e10", "0x10", " 1 ", "１２"]).map(lambda r: ("raw", r)),
)
# Mostly current ones (what WeChat sends), else stale, absurd or not numbers.
timestamps = st.sampled_from([True, True, False]).flatmap(lambda now: fresh_timestamps if now else other_timestamps)


def timestamp_of(spec) -> str:
    kind, value = spec
    return str(int(time.time()) + value) if kind == "offset" else value


@fuzz_settings(150)
@given(
    timestamp=timestamps, nonce=query_values, echostr=st.one_of(nasty_text, query_values),
    how=st.sampled_from(["signed", "signed", "forged", "random", "missing", "upper"]),
    extra=st.dictionaries(st.text(min_size=1, max_size=10), query_values, max_size=3),
)
@example(timestamp=("offset", 0), nonce="2", echostr="<script>alert(1)</script>", how="signed", extra={})
@example(timestamp=("offset", 0), nonce="2", echostr="\ud800", how="signed", extra={})
@example(timestamp=("raw", "9" * 400), nonce="2", echostr="overflow", how="signed", extra={})  # was a 500
@example(timestamp=("offset", -3600), nonce="2", echostr="replayed", how="signed", extra={})
def test_verification(fuzz, assistant, timestamp, nonce, echostr, how, extra) -> None:
    timestamp = timestamp_of(timestamp)
    params: Dict[str, Any] = dict(extra)
    for name in ("signature", "timestamp", "nonce", "echostr"):
        params.pop(name, None)
    signature = {"signed": sign(TOKEN, timestamp, nonce), "forged": sign("not-the-token", timestamp, nonce),
                 "random": os.urandom(20).hex(), "missing": None,
                 "upper": sign(TOKEN, timestamp, nonce).upper()}[how]
    if signature is not None:
        params["signature"] = signature
    params.update(timestamp=timestamp, nonce=nonce, echostr=echostr)
    url = url_with(webhook(assistant), params)
    response = fuzz.send(WECHAT_GET, "GET", url, example=(how, timestamp, nonce, echostr))
    if len(url) > MAX_HEADER_BYTES:  # Sanic's REQUEST_MAX_HEADER_SIZE, for the request line and headers
        assert response.status_code == 413
        return
    if len(url) > MAX_HEADER_BYTES - 1000:  # with the other headers, over it or not
        assert response.status_code in (200, 403, 413)
        return
    if how == "signed" and fresh(timestamp):
        assert response.status_code == 200, response.text[:200]
        if not any(0xD800 <= ord(c) <= 0xDFFF for c in echostr):
            assert response.content == echostr.encode("utf-8")
    else:
        assert response.status_code == 403, (how, timestamp, response.status_code)
        assert response.text == "forbidden"


# --------------------------------------------------------------------------- POST, signatures


any_body = st.one_of(
    wechat_documents(),
    st.binary(max_size=2000),
    malformed_json_bytes.filter(lambda b: len(b) < WECHAT_MAX_BODY),
    st.sampled_from(XML_BOMBS),
    entity_bombs(),
    st.builds(lambda s: text_xml("ofuzzForged", s, 1).encode("utf-8", "surrogatepass"), nasty_text),
)


@fuzz_settings(120)
@given(body=any_body, how=st.sampled_from(["forged", "random", "missing", "partial", "other-timestamp", "stale"]),
       safe=st.booleans(), stale=st.one_of(st.integers(min_value=310, max_value=10**12).map(lambda s: ("offset", s)),
                                           st.integers(max_value=-310).map(lambda s: ("offset", s)),
                                           timestamps.filter(lambda t: t[0] == "raw")))
@example(body=b"<xml/>", how="stale", safe=False, stale=("raw", "9" * 400))  # was a 500 (OverflowError)
def test_posts_without_the_right_signature_are_403(fuzz, assistant, body, how, safe, stale) -> None:
    query = signed()
    if how == "stale":  # rightly signed, but not now: a replay (or an absurd timestamp)
        query = signed(timestamp=timestamp_of(stale))
        if fresh(query["timestamp"]):
            return
    elif how == "forged":
        query = signed(token="not-the-token")
    elif how == "random":
        query["signature"] = os.urandom(20).hex()
    elif how == "missing":
        query = {}
    elif how == "partial":
        del query["nonce"]
    else:
        query["timestamp"] = str(int(query["timestamp"]) + 1)
    if safe:
        query.update(encrypt_type="aes", msg_signature=os.urandom(20).hex())
    response = fuzz.send(WECHAT_POST, "POST", url_with(webhook(assistant), query), data=body,
                         headers={"Content-Type": "text/xml"}, example=(how, safe, body[:300]))
    assert response.status_code == 403, (response.status_code, response.text[:200])


# --------------------------------------------------------------------------- POST, signed garbage


# Each of these was a 500 (wechatpy handing over a dict, a list or a failing int()).
FIELDS_THAT_WERE_500 = (
    b"<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType><Content>hi</Content>"
    b"<MsgId>abc</MsgId></xml>",
    b"<xml><FromUserName>o1</FromUserName><MsgType>event</MsgType><Event>subscribe</Event>"
    b"<CreateTime>yesterday</CreateTime></xml>",
    b"<xml><FromUserName>o1<a>b</a></FromUserName><MsgType>text</MsgType><Content>x</Content>"
    b"<MsgId>7</MsgId></xml>",
    b"<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType><Content>x<b>y</b></Content>"
    b"<MsgId>8</MsgId></xml>",
    b"<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType><Content>a</Content>"
    b"<Content>b</Content><MsgId>9</MsgId></xml>",
    b"<xml><FromUserName>o1</FromUserName><MsgType>event</MsgType><Event>CLICK</Event>"
    b"<EventKey><k>/greet</k></EventKey><CreateTime>1</CreateTime></xml>",
    b"<xml><FromUserName>o1</FromUserName><MsgType>voice</MsgType><Recognition><r/></Recognition>"
    b"<MsgId>10</MsgId></xml>",
    b'<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType><Content a="1">x</Content>'
    b"<MsgId>11</MsgId></xml>",
    b'<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType><Content xmlns="urn:x">x</Content>'
    b"<MsgId>12</MsgId></xml>",
    b"<xml><ToUserName><a/></ToUserName><FromUserName>o1</FromUserName><MsgType>text</MsgType>"
    b"<Content>x</Content><MsgId>13</MsgId></xml>",
)


def with_fields_that_were_500(test):
    for body in FIELDS_THAT_WERE_500:
        test = example(body=body, content_type="text/xml", openid=None)(test)
    return test


@fuzz_settings(250)
@given(body=wechat_documents(), content_type=content_types,
       openid=st.one_of(st.none(), st.text(max_size=30)))
@with_fields_that_were_500
def test_signed_messages_with_hostile_fields(fuzz, assistant, body, content_type, openid) -> None:
    query = signed()
    if openid is not None:
        query["openid"] = openid
    headers = {"Content-Type": content_type} if content_type is not None else {}
    response = fuzz.send(WECHAT_POST, "POST", url_with(webhook(assistant), query), data=body, headers=headers,
                         example=body)
    assert response.status_code in (200, 400), (response.status_code, response.text[:200])
    if response.status_code == 200:
        check_reply(response)


@fuzz_settings(120)
@given(body=st.one_of(st.binary(max_size=3000), malformed_json_bytes.filter(lambda b: len(b) < WECHAT_MAX_BODY),
                      st.builds(lambda s: s.encode("utf-8", "surrogatepass"), nasty_text)),
       content_type=content_types)
def test_signed_bodies_that_are_not_xml(fuzz, assistant, body, content_type) -> None:
    headers = {"Content-Type": content_type} if content_type is not None else {}
    response = fuzz.send(WECHAT_POST, "POST", url_with(webhook(assistant), signed()), data=body, headers=headers,
                         example=body)
    assert response.status_code in (200, 400), (response.status_code, response.text[:200])


@fuzz_settings(60)
@given(body=st.one_of(st.sampled_from(XML_BOMBS), entity_bombs()))
def test_xml_bombs_and_external_entities_are_400(fuzz, assistant, body) -> None:
    response = fuzz.send(WECHAT_POST, "POST", url_with(webhook(assistant), signed()), data=body,
                         headers={"Content-Type": "text/xml"}, example=body)
    if b"XInclude" in body:  # no DTD: parsed, but nothing is included
        assert response.status_code in (200, 400)
        assert b"root:" not in response.content
        return
    assert response.status_code == 400, (response.status_code, response.text[:200])
    assert "hostile XML" in response.text or "malformed" in response.text


@fuzz_settings(8)
@given(size=st.integers(min_value=WECHAT_MAX_BODY + 1, max_value=400_000), chunked=st.booleans(),
       signed_right=st.booleans())
@example(size=WECHAT_MAX_BODY + 1, chunked=False, signed_right=True)
@example(size=WECHAT_MAX_BODY + 1, chunked=True, signed_right=True)
def test_bodies_over_64_kib(fuzz, assistant, size, chunked, signed_right) -> None:
    query = signed() if signed_right else signed(token="wrong")
    xml = text_xml("ofuzzHuge", "长" * 10, 424242).encode()
    body = xml.replace(b"</xml>", b"<Pad>" + b"x" * (size - len(xml) - 11) + b"</Pad></xml>")
    assert len(body) == size
    data: Any = (body[i:i + 16384] for i in range(0, len(body), 16384)) if chunked else body
    response = fuzz.send(WECHAT_POST, "POST", url_with(webhook(assistant), query), data=data, allow_reset=True,
                         headers={"Content-Type": "text/xml"}, example=(size, chunked, signed_right))
    expected = 413 if signed_right else 403
    assert response is None or response.status_code == expected, response.status_code


@fuzz_settings(10)
@given(length=st.integers(min_value=1001, max_value=20_000), unit=st.sampled_from(["长", "a", "<&>", "\u202e"]))
def test_long_text_messages_get_the_polite_reply(fuzz, assistant, length, unit) -> None:
    content = (unit * length)[:length]
    body = text_xml("ofuzzLong", content, int(time.time() * 1000) + length).encode()
    response = fuzz.send(WECHAT_POST, "POST", url_with(webhook(assistant), signed()), data=body,
                         headers={"Content-Type": "text/xml"}, example=(length, unit))
    check_reply(response)
    if response.text != "success":
        assert "超过了单条" in fromstring(response.content).findtext("Content")


# --------------------------------------------------------------------------- safe mode


def encrypt_frame(frame: bytes, key: bytes = KEY) -> str:
    return base64.b64encode(WeChatCipher(key).encrypt(PKCS7Encoder.encode(frame))).decode()


def frame(xml: bytes, appid: bytes = APPID.encode(), declared: Optional[int] = None) -> bytes:
    length = len(xml) if declared is None else declared
    return os.urandom(16) + struct.pack(b"I", socket.htonl(length & 0xFFFFFFFF)) + xml + appid


@st.composite
def safe_mode_posts(draw):
    """(what, encrypted field, query) for safe mode messages that must all be refused or answered."""
    what = draw(st.sampled_from(["wrong key", "wrong msg_signature", "garbage plaintext", "bad frame",
                                 "garbage Encrypt", "other appid", "bomb inside", "encrypt_type"]))
    inner = draw(st.one_of(wechat_documents(), st.builds(
        lambda s: text_xml("ofuzzSafe", s, 77).encode("utf-8", "surrogatepass"), nasty_text)))
    key = KEY
    if what == "wrong key":
        key = draw(st.binary(min_size=32, max_size=32).filter(lambda k: k != KEY))
        encrypted = encrypt_frame(frame(inner), key)
    elif what == "garbage plaintext":
        encrypted = encrypt_frame(frame(draw(st.binary(max_size=500))))
    elif what == "bad frame":
        encrypted = encrypt_frame(draw(st.one_of(
            st.binary(max_size=64),
            st.builds(lambda n: frame(inner, declared=n), st.integers(min_value=0, max_value=2**32 - 1)),
            st.builds(lambda cut: frame(inner)[:cut], st.integers(min_value=0, max_value=40)),
        )))
    elif what == "garbage Encrypt":
        encrypted = draw(st.one_of(nasty_text, st.binary(max_size=100).map(lambda b: base64.b64encode(b).decode()),
                                   st.from_regex(r"[A-Za-z0-9+/=]{0,80}", fullmatch=True)))
    elif what == "other appid":
        encrypted = encrypt_frame(frame(inner, appid=draw(st.binary(max_size=20).filter(
            lambda a: a != APPID.encode()))))
    elif what == "bomb inside":
        encrypted = encrypt_frame(frame(draw(st.one_of(st.sampled_from(XML_BOMBS), entity_bombs()))))
    else:
        encrypted = encrypt_frame(frame(inner))
    query = signed()
    msg_signature = sign(TOKEN, query["timestamp"], query["nonce"], encrypted)
    if what == "wrong msg_signature":
        msg_signature = draw(st.one_of(st.just(sign("x", query["timestamp"], query["nonce"], encrypted)),
                                       st.text(max_size=40)))
    encrypt_type = "aes"
    if what == "encrypt_type":
        encrypt_type = draw(st.one_of(st.sampled_from(["AES", "aes ", "des", "none", "", "raw2"]),
                                      st.text(max_size=8).filter(lambda t: t not in ("aes", "raw", ""))))
    query.update(encrypt_type=encrypt_type, msg_signature=msg_signature)
    envelope = (f"<xml><ToUserName>{cdata(ACCOUNT)}</ToUserName>"
                f"<Encrypt>{cdata(encrypted)}</Encrypt></xml>").encode("utf-8", "surrogatepass")
    return what, envelope, query


@fuzz_settings(150)
@given(post=safe_mode_posts())
def test_safe_mode_with_wrong_keys_signatures_and_frames(fuzz, assistant, post) -> None:
    what, envelope, query = post
    response = fuzz.send(WECHAT_POST, "POST", url_with(webhook(assistant), query), data=envelope,
                         headers={"Content-Type": "text/xml"}, example=(what, envelope[:300], query))
    if what in ("wrong key", "wrong msg_signature", "garbage Encrypt", "other appid", "bomb inside",
                "encrypt_type", "bad frame"):
        assert 400 <= response.status_code < 500, (what, response.status_code, response.text[:200])
    else:
        assert response.status_code in (200, 400), (what, response.status_code)
    if what == "wrong msg_signature":
        assert response.status_code == 403
    if what == "bomb inside":
        # Refused unparsed either way: as hostile XML (400) or, for a generated bomb larger than the
        # webhook accepts, for its size (413), depending on what hypothesis draws.
        assert response.status_code in (400, 413)


def test_safe_mode_round_trip_still_works(fuzz, assistant) -> None:
    """The right key and signatures: a passive reply, encrypted for the account."""
    crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
    query = signed()
    inner = text_xml("ofuzzSafeOk", "你好", 990001)
    envelope = fromstring(crypto.encrypt_message(inner, query["nonce"], query["timestamp"]).encode())
    encrypted = envelope.findtext("Encrypt")
    query.update(encrypt_type="aes", msg_signature=sign(TOKEN, query["timestamp"], query["nonce"], encrypted))
    body = f"<xml><ToUserName>{cdata(ACCOUNT)}</ToUserName><Encrypt>{cdata(encrypted)}</Encrypt></xml>"
    response = fuzz.send(WECHAT_POST, "POST", url_with(webhook(assistant), query), data=body.encode(),
                         headers={"Content-Type": "text/xml"}, example="safe mode round trip")
    check_reply(response)
    assert response.text != "success" and "<Encrypt>" in response.text
    reply = fromstring(response.content)
    plain = crypto.decrypt_message({"Encrypt": reply.findtext("Encrypt")}, reply.findtext("MsgSignature"),
                                   reply.findtext("TimeStamp"), reply.findtext("Nonce"))
    assert fromstring(plain.encode()).findtext("ToUserName") == "ofuzzSafeOk"


@fuzz_settings(20)
@given(method=st.sampled_from(["PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]))
def test_other_methods(fuzz, assistant, method) -> None:
    response = fuzz.send(WECHAT_POST, method, url_with(webhook(assistant), signed()), data=b"<xml/>",
                         example=method)
    assert response.status_code < 500
