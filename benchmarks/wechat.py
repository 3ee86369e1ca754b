"""How fast the WeChat webhook acknowledges messages while Rasa is slow.

    .venv/bin/python benchmarks/wechat.py [--messages 200] [--rasa-delay 6] [--concurrency 50]

WeChat waits 5 seconds for an answer, then retries. The channel (``bot.channels.wechat``) answers
passively when Rasa answers within its reply budget (3 s by default) and otherwise acknowledges with
``success`` and sends the answer later through the 客服 message API.

This starts, on 127.0.0.1, the fake WeChat API of the tests (token and 客服 endpoints), the channel's
blueprint in a real Sanic server with the default settings, and behind it a "Rasa" that takes
``--rasa-delay`` seconds for every answer. ``--concurrency`` threads then post ``--messages`` text
messages, each from its own user, signed as WeChat signs them (every fifth in safe mode). Printed:
the acknowledgement time of the webhook (median, 95th percentile, maximum), which must stay well
under 5 s, and whether every answer then reached its user through the 客服 API. A second, shorter
run with a fast Rasa (50 ms) shows the passive path for comparison. Exits non-zero if an
acknowledgement took 4.5 s or more, or an answer was lost.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import List, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.channels.wechat import WeChatInput, WeChatSettings  # noqa: E402
from tests.bot.channels.fake_wechat import (  # noqa: E402
    AES_KEY,
    APPID,
    SECRET,
    TOKEN,
    ChannelServer,
    FakeRasa,
    FakeWeChatAPI,
    WeChatSender,
    text_xml,
)

ACK_LIMIT = 4.5

logging.getLogger("sanic.root").setLevel(logging.WARNING)  # no banner


def percentile(values: List[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def run(messages: int, rasa_delay: float, concurrency: int) -> Tuple[List[float], int, int, int, float]:
    """Returns ack times, passive replies, 'success' acks, answers delivered by 客服, time to last."""
    with FakeWeChatAPI() as api:
        settings = WeChatSettings(
            token=TOKEN, appid=APPID, secret=SECRET, aes_key=AES_KEY, api_base_url=api.base_url
        )
        rasa = FakeRasa(delay=rasa_delay)
        with ChannelServer(WeChatInput(settings), rasa) as server:

            def one(number: int) -> Tuple[float, str]:
                sender = WeChatSender(server.webhook)
                openid = f"oBench{number:05d}"
                xml = text_xml(openid, f"第{number}条消息", 7_000_000_000 + number)
                started = time.monotonic()
                response = sender.post(xml, safe=number % 5 == 0, openid=openid)
                elapsed = time.monotonic() - started
                if response.status_code != 200:
                    raise RuntimeError(f"message {number}: HTTP {response.status_code} {response.text}")
                return elapsed, response.text

            started = time.monotonic()
            with ThreadPoolExecutor(concurrency) as pool:
                results = list(pool.map(one, range(messages)))
            acks = [elapsed for elapsed, _ in results]
            deferred = sum(1 for _, body in results if body == "success")
            passive = messages - deferred

            delivered = api.wait_for_deliveries(deferred, timeout=rasa_delay + 60) if deferred else []
            last = (time.monotonic() - started) if deferred else 0.0
            expected = {
                (f"oBench{n:05d}", f"收到：第{n}条消息")
                for n, (_, body) in enumerate(results)
                if body == "success"
            }
            right = len(expected & set(delivered))
            return acks, passive, deferred, right, last


def report(title: str, acks: List[float], passive: int, deferred: int, delivered: int, last: float) -> None:
    print(title)
    print(
        f"  acknowledgement: median {statistics.median(acks):.3f} s, "
        f"p95 {percentile(acks, 0.95):.3f} s, max {max(acks):.3f} s over {len(acks)} messages"
    )
    print(f"  passive replies: {passive}, acknowledged with 'success': {deferred}")
    if deferred:
        print(f"  answers delivered through the 客服 API: {delivered}/{deferred} (last after {last:.1f} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--rasa-delay", type=float, default=6.0)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--skip-fast", action="store_true", help="skip the fast-Rasa comparison")
    args = parser.parse_args()

    acks, passive, deferred, delivered, last = run(args.messages, args.rasa_delay, args.concurrency)
    report(
        f"Slow Rasa ({args.rasa_delay:g} s per answer), {args.messages} messages, "
        f"{args.concurrency} at a time, reply budget {WeChatSettings().reply_timeout:g} s:",
        acks, passive, deferred, delivered, last,
    )
    ok = max(acks) < ACK_LIMIT and delivered == deferred
    if not args.skip_fast:
        fast = run(args.messages, 0.05, args.concurrency)
        report(f"Fast Rasa (0.05 s per answer), {args.messages} messages:", *fast)
        ok = ok and max(fast[0]) < ACK_LIMIT and fast[3] == fast[2]
    print("OK: every acknowledgement well under WeChat's 5 s, no answer lost" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
