"""A fake WeChat for the WeChat channel's tests and benchmark.

- :class:`FakeWeChatAPI`: a real HTTP server on 127.0.0.1 (in a thread) answering ``/cgi-bin/token``
  and ``/cgi-bin/message/custom/send`` like WeChat's API, recording every call; it can answer a
  send with the expired-token error (42001) a given number of times.
- :class:`WeChatSender`: builds and posts requests signed exactly as WeChat's servers do, in plain
  and in safe mode (the message encrypted with wechatpy's ``WeChatCrypto``).
- :class:`ChannelServer`: the channel's blueprint in a real Sanic app, served on a port from a
  thread with its own event loop, mounted where Rasa mounts it (``/webhooks/wechat``).
- :class:`FakeRasa`: an ``on_new_message`` handler answering through the given output channel as
  Rasa does (text, buttons), optionally slowly.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import socket
import string
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urljoin, urlparse

import requests
from defusedxml.ElementTree import fromstring
from sanic import Sanic
from wechatpy.crypto import WeChatCrypto

from bot.channels.wechat import WeChatInput
from rasa.core.channels.channel import UserMessage

TOKEN = "bureau-test-token"
APPID = "wx0123456789abcdef"
SECRET = "0123456789abcdef0123456789abcdef"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters
ACCOUNT = "gh_bureau0001"


HOLD_LIMIT = 30.0  # seconds a held call waits at most, so a failing test cannot hang the suite


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- WeChat's API


@dataclass
class APICall:
    path: str
    query: Dict[str, str]
    body: Optional[Dict[str, Any]]
    at: float
    answer: Dict[str, Any] = field(default_factory=dict)


class FakeWeChatAPI:
    """WeChat's token and 客服 message endpoints, on 127.0.0.1."""

    def __init__(self, expires_in: int = 7200, send_delay: float = 0.0) -> None:
        self.expires_in = expires_in
        self.send_delay = send_delay  # seconds each 客服 send takes to answer (the benchmark's)
        # A test can hold every 客服 send unanswered until it releases them, and wait for one to arrive:
        # events, not sleeps, so a busy machine cannot change the outcome.
        self.send_arrived = threading.Event()
        self._sends_released = threading.Event()
        self._sends_released.set()
        self.calls: List[APICall] = []
        self.expire_next_sends = 0
        self.tokens_issued = 0
        self.current_token: Optional[str] = None
        self._changed = threading.Condition(threading.RLock())
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, payload: Dict[str, Any]) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path != "/cgi-bin/token":
                    self.send_error(404)
                    return
                fake._record(url.path, query, None)
                if query.get("appid") != APPID or query.get("secret") != SECRET:
                    self._answer({"errcode": 40013, "errmsg": "invalid appid"})
                    return
                self._answer({"access_token": fake._issue_token(), "expires_in": fake.expires_in})

            def do_POST(self) -> None:
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length).decode("utf-8")) if length else None
                if url.path != "/cgi-bin/message/custom/send":
                    self.send_error(404)
                    return
                fake.send_arrived.set()
                fake._sends_released.wait(timeout=HOLD_LIMIT)
                if fake.send_delay:
                    time.sleep(fake.send_delay)
                self._answer(fake._send(query, body))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "FakeWeChatAPI":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release_sends()
        self.server.shutdown()
        self.server.server_close()

    def _record(
        self,
        path: str,
        query: Dict[str, str],
        body: Optional[Dict[str, Any]],
        answer: Optional[Dict[str, Any]] = None,
    ) -> None:
        with self._changed:
            self.calls.append(APICall(path, query, body, time.monotonic(), answer or {}))
            self._changed.notify_all()

    def _issue_token(self) -> str:
        with self._changed:
            self.tokens_issued += 1
            self.current_token = f"ACCESS_TOKEN_{self.tokens_issued}"
            return self.current_token

    def _send(self, query: Dict[str, str], body: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        with self._changed:
            if self.expire_next_sends > 0:
                self.expire_next_sends -= 1
                answer = {"errcode": 42001, "errmsg": "access_token expired"}
            elif query.get("access_token") != self.current_token:
                answer = {"errcode": 40001, "errmsg": "invalid credential"}
            else:
                answer = {"errcode": 0, "errmsg": "ok"}
        self._record("/cgi-bin/message/custom/send", query, body, answer)
        return answer

    def hold_sends(self) -> None:
        """客服 sends arriving from now on wait, unanswered, until :meth:`release_sends`."""
        self.send_arrived.clear()
        self._sends_released.clear()

    def release_sends(self) -> None:
        self._sends_released.set()

    # ---- what happened

    def token_calls(self) -> List[APICall]:
        with self._changed:
            return [c for c in self.calls if c.path == "/cgi-bin/token"]

    def send_calls(self) -> List[APICall]:
        with self._changed:
            return [c for c in self.calls if c.path == "/cgi-bin/message/custom/send"]

    def delivered(self) -> List[Tuple[str, str]]:
        """(openid, text) of the 客服 messages WeChat accepted, in order."""
        return [
            (c.body["touser"], c.body["text"]["content"])
            for c in self.send_calls()
            if c.answer.get("errcode") == 0
        ]

    def wait_for_deliveries(self, count: int, timeout: float = 15.0) -> List[Tuple[str, str]]:
        """Waits until ``count`` 客服 messages were accepted (or the timeout); returns them."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                delivered = self.delivered()
                remaining = deadline - time.monotonic()
                if len(delivered) >= count or remaining <= 0:
                    return delivered
                self._changed.wait(remaining)


# --------------------------------------------------------------------------- WeChat's servers


def _nonce() -> str:
    return "".join(random.choice(string.digits) for _ in range(10))


def sign(token: str, timestamp: str, nonce: str, *extra: str) -> str:
    """WeChat's signature: SHA1 of the sorted, concatenated values."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, *extra])).encode("utf-8")).hexdigest()


def cdata(text: str) -> str:
    return text.replace("]]>", "]]]]><![CDATA[>")


def text_xml(openid: str, content: str, msg_id: int, create_time: Optional[int] = None) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time or int(time.time())}</CreateTime>"
        f"<MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{cdata(content)}]]></Content>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


def voice_xml(openid: str, recognition: str, msg_id: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>"
        f"<MsgType><![CDATA[voice]]></MsgType>"
        f"<MediaId><![CDATA[media_{msg_id}]]></MediaId>"
        f"<Format><![CDATA[amr]]></Format>"
        f"<Recognition><![CDATA[{cdata(recognition)}]]></Recognition>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


def image_xml(openid: str, msg_id: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>"
        f"<MsgType><![CDATA[image]]></MsgType>"
        f"<PicUrl><![CDATA[http://mmbiz.example/pic.jpg]]></PicUrl>"
        f"<MediaId><![CDATA[media_{msg_id}]]></MediaId>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


def event_xml(openid: str, event: str, create_time: int, event_key: str = "") -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
        f"<MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event>"
        f"<EventKey><![CDATA[{event_key}]]></EventKey></xml>"
    )


@dataclass
class WeChatSender:
    """Posts to the channel's webhook as WeChat's servers do."""

    webhook: str
    token: str = TOKEN
    appid: str = APPID
    aes_key: str = AES_KEY
    timeout: float = 30.0
    session: requests.Session = field(default_factory=requests.Session)

    def _signed(self, token: Optional[str] = None) -> Dict[str, str]:
        timestamp, nonce = str(int(time.time())), _nonce()
        return {
            "signature": sign(token or self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
        }

    def verify(self, echostr: str = "echo-1234567890", forged: bool = False) -> requests.Response:
        query = self._signed("not-the-token" if forged else None)
        query["echostr"] = echostr
        return self.session.get(self.webhook, params=query, timeout=self.timeout)

    def post(
        self,
        xml: str | bytes,
        *,
        safe: bool = False,
        forged: bool = False,
        openid: str = "",
        headers: Optional[Dict[str, str]] = None,
    ) -> requests.Response:
        query = self._signed("not-the-token" if forged else None)
        if openid:
            query["openid"] = openid
        body = xml.encode("utf-8") if isinstance(xml, str) else xml
        if safe:
            crypto = WeChatCrypto(self.token, self.aes_key, self.appid)
            envelope = fromstring(crypto.encrypt_message(body.decode("utf-8"), query["nonce"], query["timestamp"]))
            encrypted = envelope.findtext("Encrypt")
            msg_signature = sign(self.token, query["timestamp"], query["nonce"], encrypted)
            if forged:
                msg_signature = sign("not-the-token", query["timestamp"], query["nonce"], encrypted)
            query.update(encrypt_type="aes", msg_signature=msg_signature)
            body = (
                f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
                f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
            ).encode("utf-8")
        return self.session.post(
            self.webhook,
            params=query,
            data=body,
            headers={"Content-Type": "text/xml", **(headers or {})},
            timeout=self.timeout,
        )

    def decrypt_reply(self, response: requests.Response) -> str:
        """The reply XML of a safe mode answer, its signature checked as WeChat does."""
        envelope = fromstring(response.content)
        crypto = WeChatCrypto(self.token, self.aes_key, self.appid)
        return crypto.decrypt_message(
            {"Encrypt": envelope.findtext("Encrypt")},
            envelope.findtext("MsgSignature"),
            envelope.findtext("TimeStamp"),
            envelope.findtext("Nonce"),
        )


def reply_content(xml: str) -> Dict[str, str]:
    """The fields of a passive reply."""
    root = fromstring(xml.encode("utf-8"))
    return {child.tag: child.text or "" for child in root}


# --------------------------------------------------------------------------- Rasa


class FakeRasa:
    """Answers like the assistant would, through the output channel of the message.

    - ``/greet``: a welcome with two buttons;
    - ``/book_lawyer``: asks for a date;
    - ``长``: several long messages (more than one WeChat text);
    - ``坏``: fails;
    - anything else: "收到：<text>".

    Waits ``delay`` seconds before answering (``slow_delay`` for texts starting with ``慢``); a test
    can also hold the slow answers until it releases them (:meth:`hold_slow_answers`), so that
    "Rasa is still thinking" is a fact of the test and not a race with the clock.
    """

    WELCOME = "您好，我是县信访局的智能助手。"
    BUTTONS = [
        {"title": "预约律师咨询", "payload": "/book_lawyer"},
        {"title": "信访渠道", "payload": "/ask_channels"},
    ]

    def __init__(self, delay: float = 0.0, slow_delay: float = 4.0) -> None:
        self.delay = delay
        self.slow_delay = slow_delay
        self.received: List[Tuple[str, str, str]] = []  # (sender, text, output channel name)
        self._lock = threading.Lock()
        self._slow_released = threading.Event()
        self._slow_released.set()

    def hold_slow_answers(self) -> None:
        self._slow_released.clear()

    def release_slow_answers(self) -> None:
        self._slow_released.set()

    async def __call__(self, message: UserMessage) -> None:
        with self._lock:
            self.received.append((message.sender_id, message.text, message.output_channel.name()))
        text = message.text or ""
        delay = self.slow_delay if text.startswith("慢") else self.delay
        if delay:
            await asyncio.sleep(delay)
        if text.startswith("慢"):
            held_until = time.monotonic() + HOLD_LIMIT
            while not self._slow_released.is_set() and time.monotonic() < held_until:
                await asyncio.sleep(0.01)
        out, to = message.output_channel, message.sender_id
        if text == "/greet":
            await out.send_response(to, {"text": self.WELCOME, "buttons": list(self.BUTTONS)})
        elif text == "/book_lawyer":
            await out.send_response(to, {"text": "好的。请问您想预约哪一天？"})
        elif text == "长":
            for number in range(3):
                await out.send_response(to, {"text": f"第{number + 1}段：" + "信访事项办理说明。" * 60})
        elif text == "坏":
            raise RuntimeError("the model is broken")
        else:
            await out.send_response(to, {"text": f"收到：{text}"})

    def texts(self) -> List[str]:
        with self._lock:
            return [text for _, text, _ in self.received]


# --------------------------------------------------------------------------- the channel served


class ChannelServer:
    """The channel's blueprint in a real Sanic app on 127.0.0.1, run by a thread's event loop."""

    def __init__(self, channel: WeChatInput, on_new_message: Any) -> None:
        Sanic.test_mode = True
        self.channel = channel
        self.port = free_port()
        self.app = Sanic(f"wechat_test_{uuid.uuid4().hex[:8]}", configure_logging=False)
        # Mounted as rasa.core.channels.channel.register() mounts input channels.
        self.app.blueprint(
            channel.blueprint(on_new_message),
            url_prefix=urljoin("/webhooks/", channel.url_prefix()),
        )
        self.loop = asyncio.new_event_loop()
        self._server: Any = None
        self._ready = threading.Event()
        self._error: Optional[BaseException] = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    @property
    def webhook(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/wechat/webhook"

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self._server = self.loop.run_until_complete(
                self.app.create_server(
                    host="127.0.0.1",
                    port=self.port,
                    return_asyncio_server=True,
                    access_log=False,
                )
            )
            self.loop.run_until_complete(self._server.startup())
            self.loop.run_until_complete(self._server.before_start())
            self.loop.run_until_complete(self._server.after_start())
        except BaseException as e:  # reported to the starting thread
            self._error = e
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()

    def __enter__(self) -> "ChannelServer":
        self.thread.start()
        self._ready.wait(30)
        if self._error:
            raise self._error
        return self

    def __exit__(self, *exc: Any) -> None:
        async def stop() -> None:
            await self._server.before_stop()
            await self._server.close()
            await self._server.after_stop()

        if self._server is not None:
            asyncio.run_coroutine_threadsafe(stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)

    def run(self, coroutine: Any, timeout: float = 30.0) -> Any:
        """Runs a coroutine on the server's loop (for looking at the channel's state)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)
