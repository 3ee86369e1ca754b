"""WeChat official account (公众号) channel.

Enabled in ``credentials.yml`` as ``bot.channels.wechat.WeChatInput``; Rasa mounts it under
``/webhooks/wechat/``:

- ``GET /webhooks/wechat/webhook`` answers WeChat's server verification: ``echostr`` when the
  signature is right, 403 otherwise.
- ``POST /webhooks/wechat/webhook`` takes WeChat's XML messages, plain or in safe mode
  (``encrypt_type=aes``). The signature (and ``msg_signature`` in safe mode) is checked before
  anything else (forged: 403). The body is limited to 64 KiB (413) and parsed with ``defusedxml``
  with DTDs forbidden, so external entities and entity expansion are refused (400) before wechatpy's
  own parser (xmltodict) sees the text; so is a message whose fields are not plain text (nested
  elements, attributes, repeated) or whose ``MsgId`` or ``CreateTime`` is not a number.

Settings come from the credentials block (``token``, ``appid``, ``secret``, ``aes_key``,
``api_base_url``, ``reply_timeout``) or, where a value is not given there, from the environment:
``WECHAT_TOKEN``, ``WECHAT_APPID``, ``WECHAT_SECRET``, ``WECHAT_AES_KEY`` and ``WECHAT_API_BASE_URL``
(default: the real WeChat API). Without the first four the channel logs an error naming what is
missing when Rasa starts, and its webhook answers 503 with the same message; the rest of the
assistant runs as usual.

Behaviour:

- WeChat waits 5 seconds for an answer and retries three times. The reply is given passively (in the
  HTTP response) when Rasa answers within ``reply_timeout`` (3 s); otherwise the webhook answers
  ``success`` at once and the reply follows through the customer service (客服) message API. The
  API client is wechatpy's ``WeChatClient`` (``requests``); its calls run in a thread pool, never on
  the event loop. The access token is fetched once, cached until a minute before it expires and
  refreshed once, not more, when WeChat calls it expired or invalid.
- A retried message (the same ``MsgId``; for events, the same sender, ``CreateTime`` and event) is
  processed once. A retry gets the same passive reply again when there was one, else ``success``.
- The sender id given to Rasa is the user's openid. Buttons become numbered options
  ("回复 1 预约律师咨询"); the options last offered to a user are kept for an hour and a reply with
  the number alone selects the button's payload. The bot messages of one turn are merged into one
  reply of at most 2048 bytes; a longer answer goes out as several customer service messages.
- Text goes to Rasa; voice goes as its ``Recognition`` text (without one, the user is asked to
  write); subscribing sends ``/greet`` (the welcome and menu); a menu click whose key is a Rasa
  payload ("/ask_office_info") sends that payload; unsubscribing and other events get no reply;
  any other message (image, location, link, video...) gets a polite request for text.
- Logs carry no message content and no openid: users appear as a short hash.

Several replicas: the record of taken messages and the offered options live in a :class:`TTLStore`,
and the access token in wechatpy's session storage. With ``REDIS_URL`` both are in Redis
(:class:`RedisTTLStore`, wechatpy's ``RedisStorage``), shared by the replicas behind the load
balancer: otherwise a retry reaching another replica would be processed twice, a numeric reply would
find no options, and each replica's token fetch would retire the others' tokens. Without it, one
process keeps them in memory (:class:`InMemoryTTLStore`).
"""

from __future__ import annotations

import abc
import asyncio
import base64
import binascii
import functools
import hashlib
import inspect
import json
import logging
import os
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Set,
    Text,
    Tuple,
)
from xml.etree.ElementTree import Element, ParseError

import requests
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring
from sanic import Blueprint, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy import WeChatClient, parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import (
    InvalidAppIdException,
    InvalidSignatureException,
    WeChatClientException,
)
from wechatpy.messages import BaseMessage
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    OutputChannel,
    UserMessage,
)

from bot.guard import MessageGuard
from bot.privacy import install_log_masking

logger = logging.getLogger(__name__)

ENV_TOKEN = "WECHAT_TOKEN"
ENV_APPID = "WECHAT_APPID"
ENV_SECRET = "WECHAT_SECRET"
ENV_AES_KEY = "WECHAT_AES_KEY"
ENV_API_BASE_URL = "WECHAT_API_BASE_URL"
# credentials.yml key -> environment variable used when the key is absent
REQUIRED_SETTINGS = {
    "token": ENV_TOKEN,
    "appid": ENV_APPID,
    "secret": ENV_SECRET,
    "aes_key": ENV_AES_KEY,
}

DEFAULT_API_BASE_URL = "https://api.weixin.qq.com"
# WeChat gives up on an answer after 5 s; what Rasa has not said by then goes by the 客服 API.
DEFAULT_REPLY_TIMEOUT = 3.0
MAX_REPLY_TIMEOUT = 4.5
MAX_BODY_BYTES = 64 * 1024
# Longest text of a passive reply or a 客服 text message, in UTF-8 bytes.
TEXT_LIMIT_BYTES = 2048
DEDUP_TTL = 600.0
# A signed request older (or newer) than this is refused: a captured request replayed later would
# otherwise be taken as new once the de-duplication store has forgotten it. WeChat retries within
# 15 seconds; the margin is for clocks that disagree.
MAX_REQUEST_AGE = 300.0
OPTIONS_TTL = 3600.0
API_TIMEOUT = 10.0
# On stop, how long the answers still on their way by 客服 may take (within the container's stop
# grace period, deploy/compose.yml) before they are given up.
DRAIN_TIMEOUT = 10.0
API_WORKERS = 4

GREET_PAYLOAD = "/greet"
ASK_FOR_TEXT = "您好，本助手目前只能阅读文字消息。请用文字简要描述您的问题，我们会尽快为您解答。"
VOICE_NOT_RECOGNISED = "抱歉，没能听清您的语音。请用文字再说一次，谢谢！"
SORRY = "抱歉，系统暂时繁忙，请稍后再发一次消息。"
OPTION_LINE = "回复 {number} {title}"

# Characters XML 1.0 does not allow; a reply containing one would be unreadable for WeChat.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def anonymize(openid: Optional[Text]) -> Text:
    """A short, stable stand-in for an openid in logs."""
    return hashlib.sha256((openid or "").encode("utf-8")).hexdigest()[:12]


def _digest(value: Text) -> Text:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class _OpenidRedactingFilter(logging.Filter):
    """Replaces the ``openid`` of WeChat's webhook URLs in Sanic's access log by its hash."""

    _OPENID = re.compile(r"(openid=)([^&\s]+)")

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if isinstance(request, str) and "openid=" in request:
            record.request = self._OPENID.sub(
                lambda match: match.group(1) + anonymize(match.group(2)), request
            )
        return True


def _redact_access_log() -> None:
    access_logger = logging.getLogger("sanic.access")
    if not any(isinstance(f, _OpenidRedactingFilter) for f in access_logger.filters):
        access_logger.addFilter(_OpenidRedactingFilter())


# --------------------------------------------------------------------------- settings


def _is_valid_aes_key(aes_key: Text) -> bool:
    if len(aes_key) != 43:
        return False
    try:
        return len(base64.b64decode(aes_key + "=", validate=True)) == 32
    except (binascii.Error, ValueError):
        return False


def _normalize_base_url(url: Text) -> Text:
    """``https://api.weixin.qq.com`` (also accepted with ``/cgi-bin`` or a trailing slash)."""
    url = url.strip().rstrip("/")
    if url.endswith("/cgi-bin"):
        url = url[: -len("/cgi-bin")]
    return url


@dataclass(frozen=True)
class WeChatSettings:
    """The channel's settings: credentials.yml values first, the environment as fallback."""

    token: Optional[Text] = None
    appid: Optional[Text] = None
    secret: Optional[Text] = None
    aes_key: Optional[Text] = None
    api_base_url: Text = DEFAULT_API_BASE_URL
    reply_timeout: float = DEFAULT_REPLY_TIMEOUT
    max_body_bytes: int = MAX_BODY_BYTES

    @classmethod
    def from_credentials(
        cls,
        credentials: Optional[Mapping[Text, Any]],
        environ: Optional[Mapping[Text, Text]] = None,
    ) -> "WeChatSettings":
        credentials = credentials or {}
        environ = os.environ if environ is None else environ

        def pick(key: Text, env: Text) -> Optional[Text]:
            value = credentials.get(key)
            if value is None or str(value).strip() == "":
                value = environ.get(env)
            if value is None or str(value).strip() == "":
                return None
            return str(value).strip()

        values = {key: pick(key, env) for key, env in REQUIRED_SETTINGS.items()}
        api_base_url = pick("api_base_url", ENV_API_BASE_URL) or DEFAULT_API_BASE_URL
        try:
            reply_timeout = float(credentials.get("reply_timeout", DEFAULT_REPLY_TIMEOUT))
        except (TypeError, ValueError):
            reply_timeout = float("nan")  # reported by ``problems``
        return cls(
            api_base_url=_normalize_base_url(api_base_url),
            reply_timeout=reply_timeout,
            **values,
        )

    @property
    def missing(self) -> List[Text]:
        """Environment variables of the settings that are not set."""
        return [env for key, env in REQUIRED_SETTINGS.items() if not getattr(self, key)]

    @property
    def problems(self) -> List[Text]:
        """What keeps the channel from working, in words for the operator; empty when ready."""
        problems = []
        if self.missing:
            problems.append(f"missing {', '.join(self.missing)}")
        if self.aes_key and not _is_valid_aes_key(self.aes_key):
            problems.append(
                f"{ENV_AES_KEY} is not a valid EncodingAESKey (43 characters of base64)"
            )
        if not 0 < self.reply_timeout <= MAX_REPLY_TIMEOUT:
            problems.append(
                f"reply_timeout must be more than 0 and at most {MAX_REPLY_TIMEOUT} seconds"
            )
        return problems


# --------------------------------------------------------------------------- shared state


class TTLStore(abc.ABC):
    """A small key-value store whose entries expire.

    The channel keeps in it the keys of the messages it has taken (so that WeChat's retries are
    processed once) and the options last offered to each user (so that "1" selects a button).
    Methods are coroutines so that a networked store fits: with several replicas, ``RedisTTLStore``
    shares them (a retry of WeChat's may reach another replica). Keys contain no openid in clear.
    """

    @abc.abstractmethod
    async def add(self, key: Text, value: Text, ttl: float) -> bool:
        """Stores ``value`` unless ``key`` is present; true if it was stored."""

    @abc.abstractmethod
    async def get(self, key: Text) -> Optional[Text]:
        """The value of ``key``, or ``None`` when absent or expired."""

    @abc.abstractmethod
    async def set(self, key: Text, value: Text, ttl: float) -> None:
        """Stores ``value`` under ``key`` for ``ttl`` seconds."""

    @abc.abstractmethod
    async def delete(self, key: Text) -> None:
        """Removes ``key``."""


class InMemoryTTLStore(TTLStore):
    """A :class:`TTLStore` in this process's memory, for one replica, bounded in size."""

    def __init__(
        self,
        max_entries: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self._clock = clock
        self._data: "OrderedDict[Text, Tuple[float, Text]]" = OrderedDict()

    def _live(self, key: Text) -> Optional[Tuple[float, Text]]:
        entry = self._data.get(key)
        if entry is not None and entry[0] <= self._clock():
            del self._data[key]
            return None
        return entry

    def _store(self, key: Text, value: Text, ttl: float) -> None:
        self._data.pop(key, None)
        self._data[key] = (self._clock() + ttl, value)
        if len(self._data) > self.max_entries:
            now = self._clock()
            for stale in [k for k, (expiry, _) in self._data.items() if expiry <= now]:
                del self._data[stale]
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    async def add(self, key: Text, value: Text, ttl: float) -> bool:
        if self._live(key) is not None:
            return False
        self._store(key, value, ttl)
        return True

    async def get(self, key: Text) -> Optional[Text]:
        entry = self._live(key)
        return entry[1] if entry else None

    async def set(self, key: Text, value: Text, ttl: float) -> None:
        self._store(key, value, ttl)

    async def delete(self, key: Text) -> None:
        self._data.pop(key, None)


class RedisTTLStore(TTLStore):
    """A :class:`TTLStore` in Redis (``REDIS_URL``), shared by every replica."""

    PREFIX = "wechat:"

    def __init__(self, url: Text) -> None:
        import redis.asyncio

        self._redis = redis.asyncio.Redis.from_url(url, socket_timeout=2, decode_responses=True)

    async def add(self, key: Text, value: Text, ttl: float) -> bool:
        return bool(await self._redis.set(self.PREFIX + key, value, nx=True, px=int(ttl * 1000)))

    async def get(self, key: Text) -> Optional[Text]:
        return await self._redis.get(self.PREFIX + key)

    async def set(self, key: Text, value: Text, ttl: float) -> None:
        await self._redis.set(self.PREFIX + key, value, px=int(ttl * 1000))

    async def delete(self, key: Text) -> None:
        await self._redis.delete(self.PREFIX + key)


def store_from_environment() -> TTLStore:
    url = os.environ.get("REDIS_URL")
    return RedisTTLStore(url) if url else InMemoryTTLStore()


# --------------------------------------------------------------------------- rendering


def _clean(text: Text) -> Text:
    return _XML_INVALID.sub("", text).strip()


def render_messages(messages: Iterable[Dict[Text, Any]]) -> Tuple[Text, List[Text]]:
    """Merges the bot messages of one turn into one text, buttons as numbered options.

    Returns the text and the payloads of the options, numbered from 1 across the turn.
    """
    blocks: List[Text] = []
    payloads: List[Text] = []
    for message in messages:
        lines: List[Text] = []
        if message.get("text"):
            lines.append(_clean(str(message["text"])))
        custom = message.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("text"), str):
            lines.append(_clean(custom["text"]))
        elif custom is not None:
            logger.debug("wechat: a custom payload without text was not sent")
        for key, label in (("image", "图片"), ("attachment", "附件")):
            if message.get(key):
                lines.append(f"{label}：{_clean(str(message[key]))}")
        for button in message.get("buttons") or []:
            payload = str(button.get("payload") or "").strip()
            title = _clean(str(button.get("title") or payload))
            if not payload or not title:
                continue
            payloads.append(payload)
            lines.append(OPTION_LINE.format(number=len(payloads), title=title))
        block = "\n".join(line for line in lines if line)
        if block:
            blocks.append(block)
    return "\n\n".join(blocks), payloads


def _nbytes(text: Text) -> int:
    return len(text.encode("utf-8"))


def _hard_split(text: Text, limit: int) -> List[Text]:
    parts, current, size = [], [], 0
    for char in text:
        width = _nbytes(char)
        if size + width > limit:
            parts.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    if current:
        parts.append("".join(current))
    return parts


def _split(text: Text, limit: int, separators: Tuple[Text, ...]) -> List[Text]:
    if _nbytes(text) <= limit:
        return [text]
    if not separators:
        return _hard_split(text, limit)
    separator, finer = separators[0], separators[1:]
    parts: List[Text] = []
    current = ""
    for piece in text.split(separator):
        candidate = f"{current}{separator}{piece}" if current else piece
        if _nbytes(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        if _nbytes(piece) <= limit:
            current = piece
        else:
            parts.extend(_split(piece, limit, finer))
            current = ""
    if current:
        parts.append(current)
    return parts


def split_text(text: Text, limit: int = TEXT_LIMIT_BYTES) -> List[Text]:
    """Cuts a text into pieces of at most ``limit`` UTF-8 bytes: at paragraphs, else lines."""
    pieces = _split(text.strip(), limit, ("\n\n", "\n"))
    return [piece.strip() for piece in pieces if piece.strip()]


def _cdata(text: Text) -> Text:
    """Text safe inside wechatpy's ``<![CDATA[...]]>``."""
    return text.replace("]]>", "]]]]><![CDATA[>")


def selected_payload(text: Text, payloads: List[Text]) -> Optional[Text]:
    """The payload a reply like "1" (or "１") selects among the offered options, if any."""
    choice = unicodedata.normalize("NFKC", text).strip()
    if not (0 < len(choice) <= 3 and choice.isascii() and choice.isdigit()):
        return None
    number = int(choice)
    return payloads[number - 1] if 1 <= number <= len(payloads) else None


# --------------------------------------------------------------------------- WeChat API


class _TimeoutSession(requests.Session):
    """``requests.Session`` with a default timeout (wechatpy's token fetch passes none)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.default_timeout = timeout

    def request(self, method: Text, url: Text, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, **kwargs)


class WeChatAPIClient(WeChatClient):
    """wechatpy's ``WeChatClient`` with what the channel needs and wechatpy 1.8.18 lacks.

    - The token is fetched from the configured base URL: wechatpy's ``fetch_access_token`` always
      uses ``https://api.weixin.qq.com`` whatever ``API_BASE_URL`` says.
    - An expired or invalid token is refreshed once per call: wechatpy's ``auto_retry`` retries
      for as long as WeChat says so, and recurses without end when the error persists.
    - Token fetches are serialized, so that concurrent calls do not each fetch (and retire) one.
    - Every request has a timeout.

    Caching is wechatpy's: the token is kept in the client's ``session`` storage and fetched again
    when less than 60 seconds of its ``expires_in`` remain.
    """

    def __init__(
        self,
        appid: Text,
        secret: Text,
        api_base_url: Text = DEFAULT_API_BASE_URL,
        timeout: float = API_TIMEOUT,
        session: Any = None,
    ) -> None:
        self._calls = threading.local()
        self._token_lock = threading.RLock()
        super().__init__(appid, secret, session=session, timeout=timeout, auto_retry=True)
        self.API_BASE_URL = f"{_normalize_base_url(api_base_url)}/cgi-bin/"
        self._http = _TimeoutSession(timeout)

    @property
    def auto_retry(self) -> bool:
        # Only the outermost request of a call may refresh the token and retry.
        return self._auto_retry and getattr(self._calls, "depth", 0) <= 1

    @auto_retry.setter
    def auto_retry(self, value: bool) -> None:
        self._auto_retry = value

    def _request(self, method: Text, url_or_endpoint: Text, **kwargs: Any) -> Any:
        depth = getattr(self._calls, "depth", 0)
        self._calls.depth = depth + 1
        try:
            return super()._request(method, url_or_endpoint, **kwargs)
        finally:
            self._calls.depth = depth

    def fetch_access_token(self) -> Dict[Text, Any]:
        with self._token_lock:
            return self._fetch_access_token(
                url=f"{self.API_BASE_URL}token",
                params={
                    "grant_type": "client_credential",
                    "appid": self.appid,
                    "secret": self.secret,
                },
            )

    @property
    def access_token(self) -> Text:
        with self._token_lock:
            return super().access_token


def token_storage() -> Any:
    """Where the access token is kept: in Redis (``REDIS_URL``) when replicas must share it — each
    fetch retires the token another replica holds — else in this process's memory (wechatpy's default)."""
    url = os.environ.get("REDIS_URL")
    if not url:
        return None
    import redis
    from wechatpy.session.redisstorage import RedisStorage

    return RedisStorage(redis.Redis.from_url(url, socket_timeout=2), prefix="wechat-token")


class WeChatAPI:
    """The 客服 message API for the event loop: wechatpy's blocking calls run in threads."""

    def __init__(
        self,
        appid: Text,
        secret: Text,
        api_base_url: Text = DEFAULT_API_BASE_URL,
        timeout: float = API_TIMEOUT,
        max_workers: int = API_WORKERS,
    ) -> None:
        self.client = WeChatAPIClient(appid, secret, api_base_url, timeout, session=token_storage())
        self._executor = ThreadPoolExecutor(max_workers, thread_name_prefix="wechat-api")

    async def send_text(self, openid: Text, text: Text) -> None:
        """Sends a 客服 text message; raises ``WeChatClientException`` or ``requests`` errors."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(
            self._executor, functools.partial(self.client.message.send_text, openid, text)
        )

    def close(self) -> None:
        self._executor.shutdown(wait=False)


# --------------------------------------------------------------------------- output


class WeChatOutput(OutputChannel):
    """Sends bot messages through the 客服 message API.

    Rasa uses it for messages outside a user's turn (``get_output_channel``); the input channel
    uses it for answers that missed WeChat's 5 seconds.
    """

    @classmethod
    def name(cls) -> Text:
        return "wechat"

    def __init__(
        self,
        api: WeChatAPI,
        store: TTLStore,
        options_ttl: float = OPTIONS_TTL,
        text_limit: int = TEXT_LIMIT_BYTES,
    ) -> None:
        self.api = api
        self.store = store
        self.options_ttl = options_ttl
        self.text_limit = text_limit

    @staticmethod
    def _options_key(openid: Text) -> Text:
        return f"wechat:options:{_digest(openid)}"

    async def offered_payloads(self, openid: Text) -> List[Text]:
        stored = await self.store.get(self._options_key(openid))
        return json.loads(stored) if stored else []

    async def forget_options(self, openid: Text) -> None:
        await self.store.delete(self._options_key(openid))

    async def prepare(self, openid: Text, messages: Iterable[Dict[Text, Any]]) -> List[Text]:
        """Renders a turn's messages into texts within the length limit.

        The offered options replace the user's previous ones; a turn without buttons clears them,
        so that a later number is read as text again.
        """
        text, payloads = render_messages(messages)
        if payloads:
            await self.store.set(
                self._options_key(openid), json.dumps(payloads), self.options_ttl
            )
        elif text:
            await self.forget_options(openid)
        return split_text(text, self.text_limit) if text else []

    async def deliver(self, openid: Text, texts: List[Text]) -> bool:
        """Sends texts in order as 客服 messages; false (and logged) if one could not be sent."""
        for number, text in enumerate(texts, start=1):
            try:
                await self.api.send_text(openid, text)
            except WeChatClientException as e:
                logger.error(
                    "wechat: 客服 message %d/%d to user %s refused: errcode %s",
                    number, len(texts), anonymize(openid), e.errcode,
                )
                return False
            except requests.RequestException as e:
                logger.error(
                    "wechat: 客服 message %d/%d to user %s failed: %s",
                    number, len(texts), anonymize(openid), type(e).__name__,
                )
                return False
        logger.debug("wechat: sent %d 客服 message(s) to user %s", len(texts), anonymize(openid))
        return True

    async def send_messages(self, openid: Text, messages: List[Dict[Text, Any]]) -> bool:
        return await self.deliver(openid, await self.prepare(openid, messages))

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self.send_messages(recipient_id, [{"text": text}])

    async def send_text_with_buttons(
        self,
        recipient_id: Text,
        text: Text,
        buttons: List[Dict[Text, Any]],
        **kwargs: Any,
    ) -> None:
        await self.send_messages(recipient_id, [{"text": text, "buttons": buttons}])

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self.send_messages(recipient_id, [{"image": image}])

    async def send_attachment(
        self, recipient_id: Text, attachment: Text, **kwargs: Any
    ) -> None:
        await self.send_messages(recipient_id, [{"attachment": attachment}])

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        await self.send_messages(recipient_id, [{"custom": json_message}])


class WeChatTurnCollector(CollectingOutputChannel):
    """Collects the bot messages of one user turn; named ``wechat`` for channel-specific responses."""

    @classmethod
    def name(cls) -> Text:
        return "wechat"


# --------------------------------------------------------------------------- input


class _Refused(Exception):
    def __init__(self, status: int, reason: Text) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class _Turn:
    """One message taken from WeChat: its answer in the making and how it will be delivered."""

    openid: Text
    answer: "asyncio.Task[List[Text]]"
    created: float
    deferred: bool = False


def parse_xml(body: bytes) -> Element:
    """Parses XML with DTDs forbidden: no external entity, no entity expansion."""
    try:
        root = defused_fromstring(body, forbid_dtd=True)
    except DefusedXmlException as e:
        raise _Refused(400, f"hostile XML refused ({type(e).__name__})")
    except (ParseError, ValueError):
        raise _Refused(400, "malformed XML")
    if root.tag != "xml":
        raise _Refused(400, "not a WeChat message")
    return root


# The fields the channel and wechatpy's reply read, and those of them wechatpy converts to int.
_READ_FIELDS = ("ToUserName", "FromUserName", "CreateTime", "MsgType", "MsgId", "Content",
                "Recognition", "Event", "EventKey")
_INTEGER_FIELDS = ("CreateTime", "MsgId")


def check_fields(root: Element) -> None:
    """Refuses (400) a message whose fields the channel reads are not plain text once each, or whose
    ``MsgId`` or ``CreateTime`` is not an integer: wechatpy would hand them over as dicts or lists
    (an element with children, attributes or a namespace, or repeated) or fail converting them."""
    seen: Set[Text] = set()
    for child in root:
        name = child.tag.rpartition("}")[2]
        if name not in _READ_FIELDS:
            continue
        if name in seen or "}" in child.tag or len(child) or child.attrib:
            raise _Refused(400, f"malformed {name}")
        seen.add(name)
        if name in _INTEGER_FIELDS and (child.text or "").strip():
            try:
                int(child.text)
            except ValueError:
                raise _Refused(400, f"malformed {name}") from None


class WeChatInput(InputChannel):
    """WeChat official account (公众号) input channel."""

    @classmethod
    def name(cls) -> Text:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls(WeChatSettings.from_credentials(credentials))

    def __init__(
        self,
        settings: WeChatSettings,
        store: Optional[TTLStore] = None,
        api: Optional[WeChatAPI] = None,
    ) -> None:
        self.settings = settings
        self.store = store or store_from_environment()
        self.guard = MessageGuard.from_environment()
        self.problem: Optional[Text] = None
        self.crypto: Optional[WeChatCrypto] = None
        self.output: Optional[WeChatOutput] = None
        self._turns: "OrderedDict[Text, _Turn]" = OrderedDict()
        self._background: Set[asyncio.Future] = set()

        if settings.problems:
            self.problem = (
                "WeChat channel is not configured: "
                + "; ".join(settings.problems)
                + ". Its webhook answers 503 until this is fixed; the rest of the assistant runs."
            )
            logger.error(self.problem)
            return
        self.crypto = WeChatCrypto(settings.token, settings.aes_key, settings.appid)
        api = api or WeChatAPI(settings.appid, settings.secret, settings.api_base_url)
        self.output = WeChatOutput(api, self.store)
        logger.info(
            "wechat: channel ready, 客服 API at %s, passive replies within %.1f s",
            settings.api_base_url, settings.reply_timeout,
        )

    def get_output_channel(self) -> Optional[OutputChannel]:
        return self.output

    # ---------------------------------------------------------------- request checks

    def _check_signature(self, request: Request) -> None:
        try:
            check_signature(
                self.settings.token,
                request.args.get("signature", ""),
                request.args.get("timestamp", ""),
                request.args.get("nonce", ""),
            )
        except InvalidSignatureException:
            raise _Refused(403, "bad signature")
        try:
            age = abs(time.time() - int(request.args.get("timestamp", "")))
        except (ValueError, OverflowError):
            raise _Refused(403, "bad timestamp") from None
        if age > MAX_REQUEST_AGE:
            raise _Refused(403, "stale request")

    async def _read_body(self, request: Request) -> bytes:
        limit = self.settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise _Refused(400, "bad Content-Length")
            if int(declared) > limit:
                raise _Refused(413, "body too large")
        # Sanic itself stops reading past this (chunked bodies included).
        request.stream.request_max_size = limit
        chunks, size = [], 0
        try:
            while True:
                chunk = await request.stream.read()
                if chunk is None:
                    break
                size += len(chunk)
                if size > limit:
                    raise _Refused(413, "body too large")
                chunks.append(chunk)
        except PayloadTooLarge:
            raise _Refused(413, "body too large")
        return b"".join(chunks)

    def _open(self, request: Request, body: bytes) -> Tuple[Element, Text, bool]:
        """The message (decrypted in safe mode) as checked tree and text; and whether safe mode is on."""
        root = parse_xml(body)
        encrypt_type = request.args.get("encrypt_type", "raw") or "raw"
        if encrypt_type == "raw":
            plain = body
            safe = False
        elif encrypt_type == "aes":
            encrypted = root.findtext("Encrypt")
            if not encrypted:
                raise _Refused(400, "safe mode message without Encrypt")
            try:
                # A dict, so that wechatpy does not parse the body again.
                decrypted = self.crypto.decrypt_message(
                    {"Encrypt": encrypted},
                    request.args.get("msg_signature", ""),
                    request.args.get("timestamp", ""),
                    request.args.get("nonce", ""),
                )
            except InvalidSignatureException:
                raise _Refused(403, "bad msg_signature")
            except InvalidAppIdException:
                raise _Refused(403, "message for another appid")
            except Exception:
                raise _Refused(400, "undecryptable message")
            plain = decrypted.encode("utf-8")
            safe = True
        else:
            raise _Refused(400, "unknown encrypt_type")
        if safe:
            root = parse_xml(plain)  # the decrypted message is checked like a plain one
        try:
            return root, plain.decode("utf-8"), safe
        except UnicodeDecodeError:
            raise _Refused(400, "not UTF-8")

    # ---------------------------------------------------------------- turns

    def _spawn(self, coroutine: Awaitable[Any]) -> asyncio.Future:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def finish_deliveries(self, timeout: float) -> None:
        """Waits for the answers still to be sent by 客服, so that stopping a replica loses none of
        the replies it has promised (WeChat has already been told "success" for them)."""
        pending = [task for task in self._background if not task.done()]
        if not pending:
            return
        logger.info("wechat: sending %d answer(s) still on their way before stopping", len(pending))
        _, unfinished = await asyncio.wait(pending, timeout=timeout)
        if unfinished:
            logger.warning("wechat: %d answer(s) not sent within %.0f s of stopping", len(unfinished), timeout)

    @staticmethod
    def _dedup_key(message: BaseMessage) -> Text:
        if message.id:
            return f"wechat:msg:{message.id}"
        event = getattr(message, "event", "") or message.type
        return f"wechat:evt:{_digest(f'{message.source}|{message.time}|{event}')}"

    def _remember(self, key: Text, turn: _Turn) -> None:
        now = time.monotonic()
        self._turns[key] = turn
        while self._turns:
            oldest_key, oldest = next(iter(self._turns.items()))
            if now - oldest.created <= DEDUP_TTL and len(self._turns) <= 10_000:
                break
            del self._turns[oldest_key]

    async def _what_to_do(self, message: BaseMessage, msg_type: Text) -> Tuple[Optional[Text], Optional[Text]]:
        """(text for Rasa, canned reply); both ``None``: nothing to answer."""
        openid = message.source
        if msg_type in ("text", "voice"):
            said = message.content if msg_type == "text" else message.recognition
            said = (said or "").strip()
            if not said:
                return None, ASK_FOR_TEXT if msg_type == "text" else VOICE_NOT_RECOGNISED
            payload = selected_payload(said, await self.output.offered_payloads(openid))
            return payload or said, None
        if msg_type == "event":
            event = (getattr(message, "event", "") or "").lower()
            if event in ("subscribe", "subscribe_scan"):
                return GREET_PAYLOAD, None
            if event == "unsubscribe":
                await self.output.forget_options(openid)
                return None, None
            if event == "click":
                key = (getattr(message, "key", "") or "").strip()
                return (key, None) if key.startswith("/") else (None, ASK_FOR_TEXT)
            return None, None
        return None, ASK_FOR_TEXT

    async def _ask_rasa(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        openid: Text,
        text: Text,
        message_id: Optional[Text],
    ) -> List[Text]:
        collector = WeChatTurnCollector()
        try:
            await on_new_message(
                UserMessage(
                    text,
                    collector,
                    openid,
                    input_channel=self.name(),
                    message_id=message_id,
                )
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("wechat: handling a message of user %s failed", anonymize(openid))
            return [SORRY]
        return await self.output.prepare(openid, collector.messages)

    @staticmethod
    async def _canned(text: Text) -> List[Text]:
        return [text]

    def _defer(self, turn: _Turn) -> None:
        """Sends the turn's answer through the 客服 API once it is ready (once per turn)."""
        if turn.deferred:
            return
        turn.deferred = True

        async def deliver_later() -> None:
            texts = await turn.answer
            if texts:
                await self.output.deliver(turn.openid, texts)

        self._spawn(deliver_later())

    async def _passive_answer(self, turn: _Turn) -> Optional[Text]:
        """The text to answer in the HTTP response, or ``None`` (answer comes by 客服 or not at all)."""
        try:
            await asyncio.wait({turn.answer}, timeout=self.settings.reply_timeout)
        except asyncio.CancelledError:
            self._defer(turn)
            raise
        if turn.deferred or not turn.answer.done():
            self._defer(turn)
            return None
        texts = turn.answer.result()
        if len(texts) > 1:
            self._defer(turn)
            return None
        return texts[0] if texts else None

    def _retry_answer(self, key: Text) -> Optional[Text]:
        turn = self._turns.get(key)
        if turn is None or turn.deferred:
            return None
        if not turn.answer.done():
            # WeChat gave up on the first request: the answer will come by 客服.
            self._defer(turn)
            return None
        texts = turn.answer.result()
        return texts[0] if len(texts) == 1 else None

    async def _handle(
        self,
        message: BaseMessage,
        msg_type: Text,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> Optional[Text]:
        openid = message.source
        key = self._dedup_key(message)
        if not await self.store.add(key, "1", DEDUP_TTL):
            logger.debug("wechat: retried %s message of user %s ignored", msg_type, anonymize(openid))
            return self._retry_answer(key)
        logger.debug("wechat: %s message from user %s", msg_type, anonymize(openid))

        text, canned = await self._what_to_do(message, msg_type)
        if text is not None:
            message_id = str(message.id) if message.id else None
            answer = self._ask_rasa(on_new_message, openid, text, message_id)
        elif canned is not None:
            answer = self._canned(canned)
        else:
            return None
        turn = _Turn(openid, asyncio.ensure_future(answer), time.monotonic())
        self._remember(key, turn)
        return await self._passive_answer(turn)

    def _reply(
        self, request: Request, message: BaseMessage, text: Optional[Text], safe: bool
    ) -> HTTPResponse:
        if not text:
            return response.text("success")
        xml = TextReply(message=message, content=_cdata(text)).render()
        if safe:
            xml = self.crypto.encrypt_message(
                xml, request.args.get("nonce", ""), request.args.get("timestamp")
            )
        return response.text(xml, content_type="application/xml")

    # ---------------------------------------------------------------- blueprint

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        _redact_access_log()
        install_log_masking()
        on_new_message = self.guard.wrap(on_new_message)
        module_type = inspect.getmodule(self)
        wechat_webhook = Blueprint(
            "wechat_webhook_{}".format(type(self).__name__),
            module_type.__name__ if module_type else None,
        )

        # noinspection PyUnusedLocal
        @wechat_webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            if self.problem:
                return response.json({"status": "not configured", "problem": self.problem}, status=503)
            return response.json({"status": "ok"})

        @wechat_webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if self.problem:
                return response.text(self.problem, status=503)
            try:
                self._check_signature(request)
            except _Refused as refused:
                logger.warning("wechat: verification refused: %s", refused.reason)
                return response.text("forbidden", status=refused.status)
            return response.text(request.args.get("echostr", ""))

        @wechat_webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            if self.problem:
                return response.text(self.problem, status=503)
            try:
                self._check_signature(request)
                body = await self._read_body(request)
                root, xml_text, safe = self._open(request, body)
                msg_type = (root.findtext("MsgType") or "").strip().lower()
                if not msg_type or not (root.findtext("FromUserName") or "").strip():
                    raise _Refused(400, "incomplete message")
                check_fields(root)
                # wechatpy parses the text only once defusedxml has passed it.
                message = parse_message(xml_text)
            except _Refused as refused:
                logger.warning("wechat: message refused (%d): %s", refused.status, refused.reason)
                return response.text(refused.reason, status=refused.status)
            except Exception:
                logger.warning("wechat: message refused (400): unreadable")
                return response.text("unreadable message", status=400)

            text = await self._handle(message, msg_type, on_new_message)
            return self._reply(request, message, text, safe)

        @wechat_webhook.listener("after_server_stop")
        async def finish_and_close(app: Any, loop: Any) -> None:
            await self.finish_deliveries(DRAIN_TIMEOUT)
            if self.output is not None:
                self.output.api.close()

        return wechat_webhook
