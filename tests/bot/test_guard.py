"""Length and rate limits per sender, with a polite reply through the sender's own channel."""

import asyncio
import uuid

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.guard import MessageGuard

REDIS_URL = "redis://127.0.0.1:6379/9"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def say(guard, handled, sender, text):
    output = CollectingOutputChannel()

    async def on_new_message(message):
        handled.append(message.text)

    await guard.wrap(on_new_message)(UserMessage(text, output, sender))
    return [m["text"] for m in output.messages]


def send(guard, handled, sender, text):
    return asyncio.run(say(guard, handled, sender, text))


def test_a_long_message_is_not_processed_and_the_citizen_is_told_why():
    guard, handled = MessageGuard(max_chars=10, per_minute=0), []
    replies = send(guard, handled, "a", "我" * 11)
    assert handled == [] and "11个字" in replies[0] and "10字" in replies[0]
    assert send(guard, handled, "a", "我" * 10) == [] and handled == ["我" * 10]


def test_rate_limit_per_sender_and_minute():
    clock, handled = Clock(), []
    guard = MessageGuard(per_minute=3, clock=clock)
    for _ in range(3):
        assert send(guard, handled, "a", "你好") == []
    refused = send(guard, handled, "a", "你好")
    assert len(handled) == 3 and "稍等" in refused[0]
    assert send(guard, handled, "b", "你好") == []  # another citizen is not affected
    clock.now += 60
    assert send(guard, handled, "a", "你好") == [] and len(handled) == 5


def test_replicas_share_the_count_through_redis():
    # A sender of this run only (below), so nothing is flushed that another run may use.
    clock, handled = Clock(), []
    replicas = [MessageGuard(per_minute=2, redis_url=REDIS_URL, clock=clock) for _ in range(2)]
    sender = uuid.uuid4().hex

    async def conversation():  # one event loop, as in a server
        return [await say(replicas[i], handled, sender, text) for i, text in ((0, "一"), (1, "二"), (0, "三"))]

    replies = asyncio.run(conversation())
    assert replies[0] == [] and replies[1] == [] and "稍等" in replies[2][0]
    assert handled == ["一", "二"]


def test_a_counter_store_failure_does_not_silence_citizens():
    handled = []
    guard = MessageGuard(per_minute=1, redis_url="redis://127.0.0.1:1/0")  # nothing listens there
    assert send(guard, handled, "a", "你好") == [] and handled == ["你好"]


def test_a_message_without_readable_text_gets_a_reply_not_silence():
    guard, handled = MessageGuard(per_minute=0), []
    assert "再输入" in send(guard, handled, "a", " \u3000")[0]
    assert "无法识别" in send(guard, handled, "a", "你好\ud800")[0]
    assert handled == []
