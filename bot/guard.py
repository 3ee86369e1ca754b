"""Limits on what one sender may send, applied by every channel before Rasa sees a message.

A message without text, with characters that are not Unicode text, longer than
``MESSAGE_MAX_CHARS`` characters, or beyond ``RATE_LIMIT_PER_MINUTE`` messages
of one sender in a minute, is not passed to Rasa; the sender gets a polite reply through their own
channel that says what happened and what to do. With ``REDIS_URL`` the counts are shared by every Rasa
replica; without it each process counts its own.

Crisis language comes first, whatever the length or the pace: a message that would be refused but
contains it (``bot.nlu.crisis_matcher``, the reviewed crisis lexicon) is passed on instead, so that
the citizen gets the safety reply and the staff alert. An over-long one is passed on as the part around
the crisis phrase (at most ``MESSAGE_MAX_CHARS`` characters, whole sentences where they fit), one with
characters that are not text without them. The REST, socket.io and WeChat channels all use this guard.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Tuple, Union

from rasa.core.channels.channel import UserMessage

from bot.nlu.crisis_matcher import CrisisMatcher, default_matcher

logger = logging.getLogger(__name__)

DEFAULT_MAX_CHARS = 1000
DEFAULT_PER_MINUTE = 30
WINDOW_SECONDS = 60

TOO_LONG = (
    "您这条消息有{length}个字，超过了单条{limit}字的上限，所以这条没有处理。"
    "麻烦您分几次发送，或者先简单说说最主要的诉求，我们一件一件来。"
)
NO_TEXT = "没有收到您的文字，请再输入一次您想问的事。"
UNREADABLE = "这条消息里有无法识别的字符，请重新输入一次。"
TOO_FAST = "您发送得有点快，这条消息没有处理。请稍等一分钟再发一次，您的问题我们会认真答复。"


def is_text(value: Any) -> bool:
    """A string that is Unicode text (JSON's ``\\ud800`` escapes give strings that are not)."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _MemoryCounter:
    """Messages per sender in the current minute, in this process."""

    def __init__(self) -> None:
        self._counts: Dict[Tuple[Text, int], int] = {}

    async def increment(self, key: Text, window: int) -> int:
        if len(self._counts) > 100_000:  # forget finished minutes
            self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
        count = self._counts.get((key, window), 0) + 1
        self._counts[(key, window)] = count
        return count


class _RedisCounter:
    """Messages per sender in the current minute, shared through Redis."""

    def __init__(self, url: Text) -> None:
        import redis.asyncio

        self._redis = redis.asyncio.Redis.from_url(url, socket_timeout=2)

    async def increment(self, key: Text, window: int) -> int:
        name = f"guard:{key}:{window}"
        async with self._redis.pipeline(transaction=True) as pipe:
            count, _ = await pipe.incr(name).expire(name, WINDOW_SECONDS * 2).execute()
        return int(count)


class MessageGuard:
    def __init__(self, max_chars: int = DEFAULT_MAX_CHARS, per_minute: int = DEFAULT_PER_MINUTE,
                 redis_url: Optional[Text] = None, clock: Callable[[], float] = time.time,
                 crisis: Optional[CrisisMatcher] = None) -> None:
        self.max_chars = max_chars
        self.per_minute = per_minute
        self.clock = clock
        self.counter = _RedisCounter(redis_url) if redis_url else _MemoryCounter()
        self.crisis = crisis or _default_crisis_matcher()

    @classmethod
    def from_environment(cls) -> "MessageGuard":
        return cls(
            max_chars=int(os.environ.get("MESSAGE_MAX_CHARS", DEFAULT_MAX_CHARS)),
            per_minute=int(os.environ.get("RATE_LIMIT_PER_MINUTE", DEFAULT_PER_MINUTE)),
            redis_url=os.environ.get("REDIS_URL") or None,
        )

    async def refusal(self, message: UserMessage) -> Optional[Text]:
        """The reply to send instead of answering ``message``, or None to answer it (crisis language
        not considered: see ``admit``)."""
        refused = await self._refused(message)
        return refused[1] if refused else None

    async def _refused(self, message: UserMessage) -> Optional[Tuple[Text, Text]]:
        """(why, the reply) when ``message`` is not to be answered, else None."""
        # The NLU pipeline fails on a message without text or with lone surrogates (valid JSON,
        # not Unicode text); the citizen would get no answer at all.
        if not (message.text or "").strip():
            return "no text", NO_TEXT
        if not is_text(message.text):
            return "characters that are not text", UNREADABLE
        length = len(message.text)
        if length > self.max_chars:
            logger.info("Message of %d characters from %s not processed", length, _ref(message.sender_id))
            return "too long", TOO_LONG.format(length=length, limit=self.max_chars)
        if self.per_minute > 0:
            window = int(self.clock() // WINDOW_SECONDS)
            try:
                count = await self.counter.increment(_ref(message.sender_id), window)
            except Exception:  # the limit is a courtesy; a Redis hiccup must not silence citizens
                logger.warning("Rate limit not checked: the counter store failed", exc_info=True)
                return None
            if count > self.per_minute:
                logger.info("Sender %s over %d messages a minute", _ref(message.sender_id), self.per_minute)
                return "over the rate limit", TOO_FAST
        return None

    async def crisis_message(self, message: UserMessage, reason: Text) -> Optional[UserMessage]:
        """The message to pass on instead of refusing ``message`` (for ``reason``) because it contains
        crisis language, or None. Over-long: the part around the crisis phrase; not text: without the
        characters that are not."""
        if self.crisis is None:
            return None
        text = message.text or ""
        readable = text if is_text(text) else _without_surrogates(text)
        if len(readable) > self.max_chars:
            # A very long message takes a moment to read; the server goes on with other citizens.
            excerpt = await asyncio.to_thread(self.crisis.excerpt, readable, self.max_chars)
        else:
            excerpt = readable if self.crisis.is_crisis(readable) else None
        if not excerpt:
            return None
        logger.warning("Crisis language in a message from %s that would have been refused (%s): passed on",
                       _ref(message.sender_id), reason)
        metadata = dict(message.metadata or {})
        if excerpt != text:
            metadata["guard"] = {"crisis_excerpt": True, "original_chars": len(text)}
        return UserMessage(excerpt, message.output_channel, message.sender_id, message.parse_data,
                           message.input_channel, message.message_id, metadata)

    async def admit(self, message: UserMessage) -> Union[Text, UserMessage]:
        """The polite reply that refuses ``message``, or the message to pass on to Rasa (``message``
        itself, or the part of it with crisis language when it would otherwise be refused)."""
        refused = await self._refused(message)
        if refused is None:
            return message
        why, reply = refused
        if reply != NO_TEXT:
            crisis = await self.crisis_message(message, why)
            if crisis is not None:
                return crisis
        return reply

    def wrap(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Callable[[UserMessage], Awaitable[Any]]:
        """``on_new_message`` behind this guard: refused messages get the polite reply instead."""

        async def guarded(message: UserMessage) -> Any:
            admitted = await self.admit(message)
            if isinstance(admitted, UserMessage):
                return await on_new_message(admitted)
            await message.output_channel.send_text_message(message.sender_id, admitted)
            return None

        return guarded


def _without_surrogates(text: Text) -> Text:
    return "".join(c for c in text if not 0xD800 <= ord(c) <= 0xDFFF)


def _default_crisis_matcher() -> Optional[CrisisMatcher]:
    """The reviewed crisis lexicon of this checkout (data/ is in the Rasa image). If it cannot be
    read, messages are still guarded, without the crisis check: logged loudly."""
    try:
        return default_matcher()
    except Exception:
        logger.exception("The crisis lexicon could not be read: over-long messages with crisis language "
                         "will be refused like any other")
        return None


def _ref(sender_id: Optional[Text]) -> Text:
    """A sender's stand-in in keys and logs (sender ids may be WeChat openids)."""
    return hashlib.sha256((sender_id or "").encode("utf-8", "surrogatepass")).hexdigest()[:16]
