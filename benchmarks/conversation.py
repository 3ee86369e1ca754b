"""Start-up time and one citizen's reply latency over REST, on the embedded defaults.

Prints: seconds from starting the servers on a trained model to the first answer, and the median,
95th percentile and maximum reply latency of one user's messages (a mix of greetings, procedure
questions, matters with the stage question, and a booking walk-through).

    python benchmarks/conversation.py [--messages 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.assistant import Assistant  # noqa: E402

MIX = [
    "你好", "信访局在哪里", "交上去多久给答复", "对答复不满意怎么复查", "网上信访怎么弄",
    "包工头欠了我三个月工资", "没有", "开发商两年了还不交房", "判了但是不执行",
    "周三的律师收费吗", "谢谢",
]


def say(url: str, sender: str, message: str) -> float:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        json.loads(response.read())
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"DATABASE_URL": f"sqlite:///{tmp}/bookings.sqlite3", "BOT_NOW": "2026-11-26T10:00:00+08:00"}
        started = time.perf_counter()
        with Assistant(rasa_port=25005, action_port=25055, env=env, log_dir=Path(tmp)) as assistant:
            url = f"{assistant.rasa_url}/webhooks/rest/webhook"
            say(url, "warm-up", "你好")
            print(f"start to first answer: {time.perf_counter() - started:.1f} s")
            latencies = []
            for i in range(args.messages):
                latencies.append(say(url, f"citizen-{i // len(MIX)}", MIX[i % len(MIX)]))
    latencies.sort()
    print(f"one user, {len(latencies)} messages over REST: median {statistics.median(latencies) * 1000:.1f} ms, "
          f"p95 {latencies[int(0.95 * len(latencies))] * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
