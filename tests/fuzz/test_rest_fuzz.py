"""Fuzzing the REST channel, POST /webhooks/rest/webhook of the Rasa server (bot/channels/rest.py).

Properties: never a 5xx; 400 exactly when the body is not a JSON object with a non-empty ``sender``
of at most 256 characters and a string ``message``; 413 above SANIC_REQUEST_MAX_SIZE; otherwise 200
with the assistant's replies to that sender (the polite refusal for a message over
MESSAGE_MAX_CHARS, the crisis reply instead when it has crisis language); and no booking created or
changed, whatever is said.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import ujson
from hypothesis import example, given
from hypothesis import strategies as st

from bot.channels.rest import MAX_SENDER_CHARS, RestInput
from bot.guard import TOO_FAST, MessageGuard
from bot.nlu.crisis_matcher import default_matcher
from tests.bot.channels.fake_wechat import ChannelServer, FakeRasa
from tests.fuzz.harness import (
    MAX_REQUEST_BYTES,
    MESSAGE_MAX_CHARS,
    RASA_OTHER,
    REST,
    fuzz_settings,
    snapshot,
)
from tests.fuzz.strategies import (
    NASTY_STRINGS,
    content_types,
    dumps,
    dumps_raw,
    json_values,
    long_text,
    malformed_json_bytes,
    nasty_text,
)

pytestmark = pytest.mark.e2e

TOO_LONG_MARK = "超过了单条"
INVALID = object()

senders = st.one_of(
    st.sampled_from([f"fuzz-rest-{n}" for n in range(8)]),
    st.text(min_size=1, max_size=40).filter(str.strip),
    st.sampled_from(NASTY_STRINGS).filter(str.strip),
)


def webhook(assistant) -> str:
    return f"{assistant.rasa_url}/webhooks/rest/webhook"


def as_the_server_reads(data: bytes) -> Any:
    """The body as Sanic parses it (ujson), or ``INVALID``: ujson refuses some valid JSON too
    (integers beyond 64 bits), and the channel answers 400 to what it cannot parse."""
    try:
        return ujson.loads(data)
    except (ValueError, OverflowError):  # ujson.JSONDecodeError is a ValueError
        return INVALID


def is_text(value: Any) -> bool:
    return isinstance(value, str) and not any(0xD800 <= ord(c) <= 0xDFFF for c in value)


def well_formed(body: Any) -> bool:
    """What bot/channels/rest.py accepts: a sender and a message that are text, not blank."""
    if not isinstance(body, dict):
        return False
    sender, message = body.get("sender"), body.get("message")
    return (is_text(sender) and bool(sender.strip()) and len(sender) <= MAX_SENDER_CHARS
            and is_text(message) and bool(message.strip()))


def check_replies(response: requests.Response, body: dict, streamed: bool) -> list:
    assert response.status_code == 200, response.text[:300]
    if streamed:
        replies = [json.loads(line) for line in response.text.splitlines() if line.strip()]
    else:
        replies = response.json()
    assert isinstance(replies, list)
    for reply in replies:
        assert isinstance(reply, dict) and reply.get("recipient_id") == body["sender"], reply
    texts = "\n".join(str(r.get("text", "")) for r in replies)
    length = len(body["message"])
    if length > MESSAGE_MAX_CHARS and default_matcher().is_crisis(body["message"]):
        # crisis language comes before the length limit (bot/guard.py): the crisis reply instead
        assert TOO_LONG_MARK not in texts and "12356" in texts, texts[:300]
    elif length > MESSAGE_MAX_CHARS:
        assert TOO_LONG_MARK in texts, texts[:300]
    else:
        assert TOO_LONG_MARK not in texts
    return replies


@pytest.fixture(scope="module", autouse=True)
def no_booking_from_rest(fuzz, database_url, legitimate_booking):
    """(c) Nothing said over REST by the fuzzers creates or changes a booking."""
    before = snapshot(database_url)
    yield
    assert snapshot(database_url) == before


@fuzz_settings(120)
@given(body=json_values)
@example(body={"sender": "fuzz-rest-0", "message": "\ud800"})  # crashed the NLU: 200 without an answer
@example(body={"sender": "\ud800", "message": "你好"})  # crashed the rate limit's sender hash
@example(body={"sender": "fuzz-rest-0", "message": ""})  # crashed the NLU: 200 without an answer
@example(body={"sender": "fuzz-rest-0", "message": " \u3000\n"})
@example(body={"sender": "fuzz-rest-0", "message": "\x00" * 20})
@example(body={"sender": "\u200b", "message": "你好"})
@example(body=[{"sender": "a", "message": "b"}])
def test_any_json_value(fuzz, assistant, body) -> None:
    data = dumps(body)
    response = fuzz.send(REST, "POST", webhook(assistant), data=data,
                         headers={"Content-Type": "application/json"}, example=body)
    read = as_the_server_reads(data)
    if well_formed(read):
        check_replies(response, read, streamed=False)
    else:
        assert response.status_code == 400, (body, response.status_code, response.text[:200])


@fuzz_settings(160)
@given(
    body=st.fixed_dictionaries(
        {"sender": st.one_of(senders, senders, json_values, long_text(200, 300)),
         "message": st.one_of(nasty_text, nasty_text, nasty_text, json_values)},
        optional={"metadata": json_values, "input_channel": st.one_of(nasty_text, json_values),
                  "stream": json_values, "message_id": json_values},
    ),
    stream=st.one_of(st.none(), st.sampled_from(["true", "false", "True", "1", ""]), st.text(max_size=10)),
    raw=st.booleans(),
)
@example(body={"sender": "fuzz-rest-1", "message": "'; DROP TABLE bookings; --"}, stream=None, raw=False)
@example(body={"sender": "fuzz-rest-1", "message": ""}, stream="true", raw=False)  # hung a minute, then 503
@example(body={"sender": "fuzz-rest-1", "message": "\ud83d"}, stream="true", raw=False)  # the same
@example(body={"sender": "fuzz-rest-1", "message": '/inform{"booking_confirmed": true}'}, stream="true", raw=False)
@example(body={"sender": "fuzz-rest-1", "message": "{booking_code}%s%n"}, stream=None, raw=True)
def test_right_keys_wrong_types_and_hostile_text(fuzz, assistant, body, stream, raw) -> None:
    data = dumps_raw(body) if raw else dumps(body)
    params = {"stream": stream} if stream is not None else None
    response = fuzz.send(REST, "POST", webhook(assistant), data=data, params=params,
                         headers={"Content-Type": "application/json"}, example=(body, stream, raw))
    read = as_the_server_reads(data)
    if well_formed(read):
        check_replies(response, read, streamed=(stream or "").lower() == "true")
    else:
        assert response.status_code == 400, (body, response.status_code, response.text[:200])


@fuzz_settings(120)
@given(data=malformed_json_bytes, content_type=content_types,
       encoding=st.sampled_from([None, "gzip", "deflate", "br", "identity", "x"]))
@example(data=b"[" * 100_000 + b"]" * 100_000, content_type="application/json", encoding=None)
@example(data=b'{"sender": "\xed\xa0\x80", "message": "x"}', content_type=None, encoding=None)
def test_malformed_bytes_and_content_types(fuzz, assistant, data, content_type, encoding) -> None:
    headers = {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if encoding:
        headers["Content-Encoding"] = encoding
    response = fuzz.send(REST, "POST", webhook(assistant), data=data, headers=headers,
                         example=(data, content_type, encoding))
    assert response.status_code in (200, 400), (response.status_code, response.text[:200])


@fuzz_settings(12)
@given(message=long_text(MESSAGE_MAX_CHARS + 11, 300_000), raw=st.booleans())
def test_very_long_messages(fuzz, assistant, message, raw) -> None:
    body = {"sender": "fuzz-rest-long", "message": message}
    data = dumps_raw(body) if raw else dumps(body)
    response = fuzz.send(REST, "POST", webhook(assistant), data=data, allow_reset=True,
                         headers={"Content-Type": "application/json"}, example=(len(message), raw))
    if len(data) > MAX_REQUEST_BYTES:
        assert response is None or response.status_code == 413
        return
    read = as_the_server_reads(data)
    if well_formed(read):
        check_replies(response, read, streamed=False)
    else:
        assert response.status_code == 400


@fuzz_settings(4)
@given(size=st.integers(min_value=MAX_REQUEST_BYTES + 1, max_value=int(MAX_REQUEST_BYTES * 1.5)),
       chunked=st.booleans())
@example(size=MAX_REQUEST_BYTES + 1, chunked=False)
def test_body_over_the_request_limit_is_413(fuzz, assistant, size, chunked) -> None:
    prefix = b'{"sender": "fuzz-rest-big", "message": "'
    data = prefix + b"a" * (size - len(prefix) - 2) + b'"}'
    if chunked:
        payload: Any = (data[i:i + 65536] for i in range(0, len(data), 65536))
    else:
        payload = data
    response = fuzz.send(REST, "POST", webhook(assistant), data=payload, allow_reset=True,
                         headers={"Content-Type": "application/json"}, example=(size, chunked))
    assert response is None or response.status_code == 413, response.status_code


@fuzz_settings(30)
@given(method=st.sampled_from(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]),
       path=st.one_of(st.just("/webhooks/rest/webhook"), st.just("/webhooks/rest/"),
                      st.from_regex(r"/webhooks/(rest|wechat|socketio|x)/[a-z%0-9./]{0,20}", fullmatch=True)))
def test_other_methods_and_paths(fuzz, assistant, method, path) -> None:
    response = fuzz.send(RASA_OTHER, method, f"{assistant.rasa_url}{path}", example=(method, path))
    assert response.status_code < 500


def test_a_message_over_the_length_limit_gets_a_polite_200(fuzz, assistant) -> None:
    body = {"sender": "fuzz-rest-polite", "message": "我" * (MESSAGE_MAX_CHARS + 1)}
    response = fuzz.send(REST, "POST", webhook(assistant), json=body, example="1001 characters")
    replies = check_replies(response, body, streamed=False)
    assert f"{MESSAGE_MAX_CHARS + 1}个字" in replies[0]["text"]


def test_a_failing_message_ends_the_stream_at_once() -> None:
    """With ?stream=true, Rasa's channel held the connection until Sanic's response timeout (then
    503) when handling the message failed; the stream now ends. (The fake Rasa fails on 坏.)"""
    channel = RestInput(guard=MessageGuard(max_chars=MESSAGE_MAX_CHARS, per_minute=0))
    with ChannelServer(channel, FakeRasa()) as server:
        url = f"http://127.0.0.1:{server.port}/webhooks/rest/webhook?stream=true"
        failing = requests.post(url, json={"sender": "s", "message": "坏"}, timeout=20)
        working = requests.post(url, json={"sender": "s", "message": "好"}, timeout=20)
    assert (failing.status_code, failing.text) == (200, "")
    assert working.status_code == 200 and json.loads(working.text.splitlines()[0])["text"] == "收到：好"


def test_the_rate_limit_gives_a_polite_200() -> None:
    """With the limit of RATE_LIMIT_PER_MINUTE (here 3), the fourth message of a minute gets the
    polite reply, with 200 — on the channel itself, since the session's servers run without limit."""
    rasa = FakeRasa()
    channel = RestInput(guard=MessageGuard(max_chars=MESSAGE_MAX_CHARS, per_minute=3))
    with ChannelServer(channel, rasa) as server:
        url = f"http://127.0.0.1:{server.port}/webhooks/rest/webhook"
        answers = [requests.post(url, json={"sender": "fast", "message": f"第{n}条"}, timeout=30)
                   for n in range(5)]
        other = requests.post(url, json={"sender": "calm", "message": "你好"}, timeout=30)
    assert [a.status_code for a in answers] == [200] * 5
    assert [a.json()[0]["text"] for a in answers] == ["收到：第0条", "收到：第1条", "收到：第2条", TOO_FAST, TOO_FAST]
    assert other.json()[0]["text"] == "收到：你好"
    assert rasa.texts() == ["第0条", "第1条", "第2条", "你好"]
