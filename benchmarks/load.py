"""Load: realistic citizens' conversations over REST at 1, 10 and 50 concurrent citizens.

    .venv/bin/python benchmarks/load.py [--duration 60] [--levels 1,10,50]
                                        [--skip-embedded] [--skip-cluster] [--skip-stock]

Three configurations, one after the other, each started here on its own ports and stopped at the end
(also on Ctrl-C and on errors):

  embedded  the default of ``make run`` (scripts/assistant.py): one Rasa server (19005) and one action
            server (19055), conversations in memory, bookings in a SQLite file in a temporary folder;
  cluster   the production setup (scripts/cluster.py): two Rasa replicas and two action servers behind
            HAProxy (base port 29000, citizens talk to the balancer), conversations and bookings in a
            database of their own on the PostgreSQL at 127.0.0.1:5432, locks and counters in a Redis
            database of their own (127.0.0.1:6379/10);
  stock     the assistant that ``rasa init`` creates (the moodbot, English, Rasa's default pipeline
            and policies), as a yardstick: ``rasa run --port 19105``, no action server. It is created and
            trained once per Rasa version and kept under .cache/stock-rasa/ (training takes minutes).

Every server runs with BOT_NOW=2026-11-26T10:00:00+08:00 (a Thursday; the lawyer calendar is fixed) and
RATE_LIMIT_PER_MINUTE=100000 (the per-sender rate limit stays out of the way).

For each configuration and each level of concurrency, that many simulated citizens talk to the
assistant at once, each running conversations back to back (no think time) for ``--duration`` seconds;
every conversation is a new citizen (a new sender id). Our mix, drawn at random (seeded):

  guidance  你好, one to three procedure questions (where, materials, time limits, 复查, online …), 谢谢;
  triage    a matter described as citizens type it (tests/triage/cases.yml, the cases whose stage the
            assistant has to ask), the topic button tapped when the assistant offers topics, the stage
            question answered as typed (“还没有”, “已经起诉了，还没开庭” …), 谢谢;
  booking   我要预约律师 → a date from the reply's buttons → a time from the buttons → a name → a
            mobile number never used before (139 + a counter) → a summary → 确认. When the chosen
            place was taken meanwhile, one of the nearest free places offered is taken instead (up to
            three times); when everything is full (“都约满了”) the citizen says 不约了: a conversation
            that ended without a booking, not an error.

The stock assistant gets its own mix (hi / I am sad / yes / no / great / are you a bot? / bye).

Errors are: HTTP errors, timeouts and refused connections, an empty reply, a reply with “没处理好” (the
assistant's last resort, utter_default), and a booking that goes nowhere the script expects. A
conversation stops at its first error; after an HTTP 5xx, a timeout or a refused connection the citizen
waits a second before the next one. Latencies and messages per second count good replies only. The
lawyer calendar (bookings and their counters) is emptied before each level, so every level starts with
the same free places (the slot capacity of bureau.yml).

Printed: the machine at the top; per configuration and level the median, p95 and p99 reply latency,
messages per second, errors, conversations by outcome, and for every server process (its process tree)
the peak RSS (sampled every 0.2 s) and its CPU use, with the load generator's, PostgreSQL's (the
backends of the benchmark's database) and Redis's CPU, what the rest of the machine used and its
busiest other processes (the machine is shared), for the cluster HAProxy's health-check events (a
replica taken out, no replica left); at the end Markdown tables for docs/benchmarks.md, the
embedded/stock and cluster/embedded throughput ratios and, per level, what limits throughput.

Before the levels, unmeasured: one citizen alone for 5 s (booking conversations on ours: an action
server opens its booking service on the first booking call), then two citizens for ``--warm-up`` s.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.metadata
import itertools
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

import aiohttp  # noqa: E402
import psutil  # noqa: E402
import yaml  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from scripts.assistant import Assistant, stop_processes, wait_until_answering  # noqa: E402
from scripts.cluster import Cluster  # noqa: E402

BOT_NOW = "2026-11-26T10:00:00+08:00"
SERVER_ENV = {"BOT_NOW": BOT_NOW, "RATE_LIMIT_PER_MINUTE": "100000"}
EMBEDDED_PORTS = (19005, 19055)
CLUSTER_BASE_PORT = 29000
STOCK_PORT = 19105
STOCK_CACHE = ROOT / ".cache" / "stock-rasa"
SAMPLE_SECONDS = 0.2
LAST_RESORT = "没处理好"  # utter_default
MiB = 1024 * 1024

# --- what citizens say -------------------------------------------------------------------------

GREETINGS = ["你好", "您好", "你好，请问一下"]
QUESTIONS = [
    "信访局在哪里", "上访要带什么材料", "交上去多久给答复", "对答复不满意怎么复查", "网上信访怎么弄",
    "周三的律师收费吗", "信访局电话多少", "周末上班吗", "怎么查办理进度", "可以写信反映吗",
]
THANKS = ["谢谢", "好的谢谢", "谢谢你"]
BOOKING_OPENERS = ["我要预约律师", "预约律师", "我想预约律师咨询"]
NAMES = ["王建国", "李秀英", "张伟", "刘芳", "陈志强", "杨桂兰", "赵磊", "黄丽娟"]
SUMMARIES = ["欠薪的事想咨询一下", "安置房一直不交付", "征地补偿的事", "工伤赔偿怎么算",
             "离婚财产分割", "邻居占了我家宅基地"]
OUR_MIX = (("guidance", 0.40), ("triage", 0.35), ("booking", 0.25))

STOCK_CONVERSATIONS = [
    ["hi", "great", "bye"],
    ["hello", "I am feeling very good", "goodbye"],
    ["hey", "I am sad", "yes"],
    ["hi", "my day was horrible", "no"],
    ["hello", "are you a bot?", "bye"],
    ["hey there", "I am sad", "not really", "bye"],
]


def triage_cases() -> List[dict]:
    """The evaluation cases whose message does not tell the stage: the assistant asks it."""
    cases = yaml.safe_load((ROOT / "tests" / "triage" / "cases.yml").read_text(encoding="utf-8"))["cases"]
    return [c for c in cases if c.get("stage_answer")]


# --- one conversation --------------------------------------------------------------------------

class Cut(Exception):
    """The level's time is up: the conversation stops before its next message (not counted)."""


class ConversationError(Exception):
    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass
class Tally:
    """What one level of load produced."""

    latencies: List[float] = field(default_factory=list)
    latency_by_kind: Dict[str, List[float]] = field(default_factory=dict)
    outcomes: Counter = field(default_factory=Counter)  # conversation kind/outcome -> count
    errors: Counter = field(default_factory=Counter)  # error kind -> count
    error_samples: List[str] = field(default_factory=list)
    stage_asked: int = 0
    full_retries: int = 0
    cut: int = 0  # conversations stopped by the end of the level
    messages: int = 0  # good replies (errors are counted in ``errors``)
    in_window: int = 0  # good replies before the end of the level (throughput)
    window: float = 0.0  # the level's duration
    seconds: float = 0.0  # until the last answer in flight at the end arrived


class Citizen:
    """One simulated citizen's session with the assistant; ``say`` times each message."""

    def __init__(self, http: aiohttp.ClientSession, url: str, tally: Tally, kind: str, timeout: float,
                 deadline: float) -> None:
        self.deadline = deadline
        self.http = http
        self.url = url
        self.tally = tally
        self.kind = kind
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.sender = f"load-{uuid.uuid4().hex[:16]}"

    async def say(self, message: str) -> List[dict]:
        started = time.perf_counter()
        if started >= self.deadline:
            raise Cut
        try:
            async with self.http.post(self.url, json={"sender": self.sender, "message": message},
                                      timeout=self.timeout) as response:
                body = await response.read()
                status = response.status
        except asyncio.TimeoutError:
            raise ConversationError("timeout", message) from None
        except aiohttp.ClientError as error:
            raise ConversationError("connection", f"{type(error).__name__} on {message}") from None
        finished = time.perf_counter()
        if status != 200:
            raise ConversationError(f"HTTP {status}", f"{message} -> {body[:200]!r}")
        try:
            replies = json.loads(body)
        except ValueError:
            raise ConversationError("not JSON", f"{message} -> {body[:200]!r}") from None
        if not replies:
            raise ConversationError("empty reply", message)
        if any(LAST_RESORT in (r.get("text") or "") for r in replies):
            raise ConversationError("utter_default (没处理好)", message)
        # Only good replies count for latency and throughput (a 503 from the balancer is quick, and
        # no answer); failed messages are the errors.
        elapsed = finished - started
        self.tally.latencies.append(elapsed)
        self.tally.latency_by_kind.setdefault(self.kind, []).append(elapsed)
        self.tally.messages += 1
        self.tally.in_window += finished <= self.deadline
        return replies


def texts(replies: List[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def payloads(replies: List[dict]) -> List[str]:
    return [b.get("payload", "") for r in replies for b in r.get("buttons") or []]


async def guidance(citizen: Citizen, rng: random.Random, _: "Context") -> str:
    await citizen.say(rng.choice(GREETINGS))
    for question in rng.sample(QUESTIONS, rng.randint(1, 3)):
        await citizen.say(question)
    await citizen.say(rng.choice(THANKS))
    return "answered"


async def triage(citizen: Citizen, rng: random.Random, context: "Context") -> str:
    case = rng.choice(context.cases)
    replies = await citizen.say(case["text"])
    topic = f"/matter_{case['matter_type']}"
    if topic in payloads(replies):  # unsure: the assistant offers topics; the citizen taps their own
        replies = await citizen.say(topic)
    outcome = "decided at once"
    if any("matter_stage" in p for p in payloads(replies)):
        citizen.tally.stage_asked += 1
        await citizen.say(case["stage_answer"])
        outcome = "stage asked"
    await citizen.say(rng.choice(THANKS))
    return outcome


async def booking(citizen: Citizen, rng: random.Random, context: "Context") -> str:
    replies = await citizen.say(rng.choice(BOOKING_OPENERS))
    phone = context.new_phone()
    taken_meanwhile = 0
    for _ in range(16):
        said = texts(replies)
        buttons = payloads(replies)
        if "预约成功" in said:
            return "booked"
        if "都约满了" in said:  # utter_booking_no_free_slots: nothing free in the booking window
            await citizen.say("不约了")
            return "ended full"
        if "约满了" in said:  # utter_booking_refused_full / utter_booking_day_full, nearest places offered
            taken_meanwhile += 1
            citizen.tally.full_retries += 1
            if taken_meanwhile > 3:
                await citizen.say("不约了")
                return "ended full"
        if "请核对预约信息" in said:
            replies = await citizen.say("确认")
        elif any('"time"' in p for p in buttons):
            replies = await citizen.say(rng.choice([p for p in buttons if '"time"' in p]))
        elif any('"date"' in p for p in buttons):
            replies = await citizen.say(rng.choice([p for p in buttons if '"date"' in p]))
        elif "称呼" in said:
            replies = await citizen.say(rng.choice(NAMES))
        elif "手机号" in said:
            replies = await citizen.say(phone)
        elif "一两句话" in said:
            replies = await citizen.say(rng.choice(SUMMARIES))
        else:
            raise ConversationError("booking: unexpected reply", said[:120])
    raise ConversationError("booking: no end after 16 messages", texts(replies)[:120])


async def stock(citizen: Citizen, rng: random.Random, _: "Context") -> str:
    for message in rng.choice(STOCK_CONVERSATIONS):
        await citizen.say(message)
    return "answered"


@dataclass
class Context:
    cases: List[dict]
    phones: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def new_phone(self) -> str:
        """A valid mobile number no citizen used before in this run (the limits are per phone)."""
        return f"139{next(self.phones):08d}"


CONVERSATIONS: Dict[str, Callable] = {"guidance": guidance, "triage": triage, "booking": booking, "stock": stock}


# --- a level of load ---------------------------------------------------------------------------

async def load(url: str, citizens: int, seconds: float, mix, context: Context, seed: int,
               timeout: float) -> Tally:
    """``citizens`` concurrent citizens run conversations back to back for ``seconds``."""
    tally = Tally()
    kinds = [kind for kind, _ in mix]
    weights = [weight for _, weight in mix]
    connector = aiohttp.TCPConnector(limit=citizens + 4)
    async with aiohttp.ClientSession(connector=connector) as http:
        deadline = time.perf_counter() + seconds

        async def one_citizen(number: int) -> None:
            rng = random.Random(seed * 10_000 + number)
            while time.perf_counter() < deadline:
                kind = rng.choices(kinds, weights)[0]
                citizen = Citizen(http, url, tally, kind, timeout, deadline)
                try:
                    outcome = await CONVERSATIONS[kind](citizen, rng, context)
                except Cut:
                    tally.cut += 1
                    continue
                except ConversationError as error:
                    tally.errors[error.kind] += 1
                    tally.outcomes[f"{kind}: error"] += 1
                    if tally.errors[error.kind] <= 3:  # a few examples of each kind of error
                        tally.error_samples.append(f"{kind}: {error}")
                    if error.kind in ("connection", "timeout") or error.kind.startswith("HTTP 5"):
                        await asyncio.sleep(1.0)  # an error page: the citizen tries again a second later
                    continue
                tally.outcomes[f"{kind}: {outcome}"] += 1

        started = time.perf_counter()
        await asyncio.gather(*(one_citizen(n) for n in range(citizens)))
        tally.seconds = time.perf_counter() - started
        tally.window = deadline - started
    return tally


# --- resources: RSS and CPU of the servers' process trees --------------------------------------

class Monitor:
    """Samples, every ``SAMPLE_SECONDS`` in a thread, the RSS of each named process tree (peak kept)
    and the CPU time of every process seen (so CPU% = CPU seconds / wall seconds, 100 % = one core).
    Extra groups: the load generator (this process), PostgreSQL backends whose title names
    ``database``, the Redis server, and the whole machine."""

    def __init__(self, roots: Dict[str, int], database: Optional[str] = None, redis: bool = False) -> None:
        self.roots = roots
        self.database = database
        self.redis = redis
        self.peak_rss: Dict[str, int] = {name: 0 for name in roots}
        self._first_cpu: Dict[Tuple[str, int], float] = {}
        self._last_cpu: Dict[Tuple[str, int], float] = {}
        self._handles: Dict[int, psutil.Process] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="monitor", daemon=True)
        self._sampled = False
        self._scans = 0
        self._shared: Dict[str, List[psutil.Process]] = {}
        self.seconds = 0.0
        self.busiest_others: List[Tuple[float, str]] = []
        self.machine_busy = 0.0  # CPU seconds of the whole machine (all cores) during the window

    def __enter__(self) -> "Monitor":
        self._everyone_start = _every_process_cpu()
        self._machine_start = psutil.cpu_times()
        self._started = time.perf_counter()
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.seconds = time.perf_counter() - self._started
        ours = {pid for _, pid in self._last_cpu}
        others = []
        for pid, (label, cpu) in _every_process_cpu().items():
            if pid not in ours:
                before = self._everyone_start.get(pid)
                used = cpu - before[1] if before and before[0] == label else cpu
                others.append((100 * used / self.seconds, label))
        self.busiest_others = [(cpu, label) for cpu, label in sorted(others, reverse=True)[:3] if cpu >= 5]
        end = psutil.cpu_times()
        self.machine_busy = _busy(end) - _busy(self._machine_start)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self._sample()

    def _process(self, pid: int) -> Optional[psutil.Process]:
        handle = self._handles.get(pid)
        if handle is None:
            try:
                handle = self._handles[pid] = psutil.Process(pid)
            except psutil.Error:
                return None
        return handle

    def _groups(self) -> Dict[str, List[psutil.Process]]:
        groups: Dict[str, List[psutil.Process]] = {}
        for name, pid in self.roots.items():
            root = self._process(pid)
            if root is None:
                groups[name] = []
                continue
            try:
                groups[name] = [root] + [self._process(c.pid) or c for c in root.children(recursive=True)]
            except psutil.Error:
                groups[name] = []
        groups["load generator"] = [self._process(os.getpid())]
        if (self.database or self.redis) and self._scans % 5 == 0:  # the process table, once a second
            postgres, redis = [], []
            for process in psutil.process_iter(["name", "cmdline"]):
                try:
                    title = " ".join(process.info["cmdline"] or [])
                    if self.database and process.info["name"] == "postgres" and f" {self.database} " in title:
                        postgres.append(self._process(process.pid) or process)
                    elif self.redis and process.info["name"] == "redis-server":
                        redis.append(self._process(process.pid) or process)
                except psutil.Error:
                    continue
            if self.database:
                self._shared["postgres (our database)"] = postgres
            if self.redis:
                self._shared["redis-server"] = redis
        self._scans += 1
        groups.update(self._shared)
        return groups

    def _sample(self) -> None:
        for name, processes in self._groups().items():
            rss = 0
            for process in processes:
                try:
                    with process.oneshot():
                        rss += process.memory_info().rss
                        times = process.cpu_times()
                except psutil.Error:
                    continue
                key = (name, process.pid)
                cpu = times.user + times.system
                # Alive at the first sample: count from there; born later: count from zero.
                self._first_cpu.setdefault(key, 0.0 if self._sampled else cpu)
                self._last_cpu[key] = cpu
            if name in self.peak_rss:
                self.peak_rss[name] = max(self.peak_rss[name], rss)
        self._sampled = True

    def cpu_percent(self) -> Dict[str, float]:
        """CPU per group over the window, 100 % = one core. Processes born during the window count
        from zero; for those alive at the start, only what they used since."""
        used: Dict[str, float] = {}
        for key, last in self._last_cpu.items():
            used[key[0]] = used.get(key[0], 0.0) + last - self._first_cpu[key]
        return {name: 100 * seconds / self.seconds for name, seconds in used.items()}

    def machine_percent(self) -> float:
        return 100 * self.machine_busy / self.seconds


def _busy(times) -> float:
    """CPU seconds the machine spent not idle (all cores)."""
    return sum(getattr(times, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq", "steal"))


def _every_process_cpu() -> Dict[int, Tuple[str, float]]:
    """CPU seconds of every process on the machine, with a short label of its command line."""
    found = {}
    for process in psutil.process_iter(["name", "cmdline", "cpu_times"]):
        try:
            times = process.info["cpu_times"]
            words = [Path(w).name if w.startswith("/") else w for w in process.info["cmdline"] or []]
            label = " ".join(" ".join(words).split())[:70] or process.info["name"]
            found[process.pid] = (label, times.user + times.system)
        except (psutil.Error, TypeError, AttributeError):
            continue
    return found


# --- the configurations ------------------------------------------------------------------------

@dataclass
class Level:
    config: str
    citizens: int
    tally: Tally
    peak_rss: Dict[str, int]
    cpu: Dict[str, float]
    machine_cpu: float
    busiest_others: List[Tuple[float, str]] = field(default_factory=list)
    database: Dict[str, int] = field(default_factory=dict)
    balancer: List[str] = field(default_factory=list)  # HAProxy's warnings during the level

    @property
    def rate(self) -> float:
        """Messages answered per second while all citizens were talking (answers after the end of
        the level, to messages sent before it, count for latency only)."""
        return self.tally.in_window / self.tally.window if self.tally.window else 0.0

    def percentile(self, fraction: float) -> float:
        values = sorted(self.tally.latencies)
        if not values:
            return float("nan")
        if len(values) == 1:
            return 1000 * values[0]
        return 1000 * statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]

    @property
    def median(self) -> float:
        return 1000 * statistics.median(self.tally.latencies) if self.tally.latencies else float("nan")

    @property
    def error_count(self) -> int:
        return sum(self.tally.errors.values())


@dataclass
class Setup:
    name: str
    url: str  # the REST webhook
    processes: Dict[str, int]  # name -> pid of each server process
    mix: tuple
    database_url: Optional[str] = None  # the bookings; emptied before each level
    postgres_database: Optional[str] = None
    redis: bool = False
    started_seconds: float = 0.0
    haproxy_log: Optional[Path] = None  # its health checks: servers taken out of the balancer


def run_levels(setup: Setup, args, context: Context, results: List[Level]) -> None:
    print(f"\n## {setup.name}: ready after {setup.started_seconds:.1f} s; processes: "
          + ", ".join(f"{name} (pid {pid})" for name, pid in setup.processes.items()), flush=True)
    # Warm-up, not counted: first one citizen alone (the action servers open the booking service on
    # their first booking call, and concurrent first calls race; see the report), then two at once.
    first = (("booking", 1.0),) if any(kind == "booking" for kind, _ in setup.mix) else setup.mix
    for citizens, seconds, mix in ((1, 5.0, first), (2, args.warm_up, setup.mix)):
        warm = asyncio.run(load(setup.url, citizens, seconds, mix, context, seed=999, timeout=args.timeout))
        print(f"   warm-up ({citizens} citizen{'s' if citizens > 1 else ''}, not counted): {warm.messages} messages "
              f"in {warm.seconds:.1f} s, {sum(warm.errors.values())} errors"
              f"{': ' + '; '.join(warm.error_samples[:3]) if warm.errors else ''}", flush=True)
    for number, citizens in enumerate(args.levels):
        if setup.database_url:
            empty_calendar(setup.database_url)
        log_offset = setup.haproxy_log.stat().st_size if setup.haproxy_log and setup.haproxy_log.exists() else 0
        with Monitor(setup.processes, database=setup.postgres_database, redis=setup.redis) as monitor:
            tally = asyncio.run(load(setup.url, citizens, args.duration, setup.mix, context,
                                     seed=args.seed + number, timeout=args.timeout))
        level = Level(setup.name, citizens, tally, dict(monitor.peak_rss), monitor.cpu_percent(),
                      monitor.machine_percent(), monitor.busiest_others)
        if setup.database_url:
            level.database = calendar_check(setup.database_url)
        if setup.haproxy_log:
            level.balancer = balancer_events(setup.haproxy_log, log_offset)
        results.append(level)
        print_level(level)
        if args.pause:
            time.sleep(args.pause)


def balancer_events(log: Path, offset: int) -> List[str]:
    """HAProxy's warnings since ``offset``: a server marked DOWN by its health check, a backend with
    no server left (citizens then get 503). The socket.io backend (the same Rasa servers, checked again)
    is left out: the REST channel does not use it."""
    with open(log, "rb") as handle:
        handle.seek(offset)
        lines = handle.read().decode("utf-8", "replace").splitlines()
    return [line.split(" : ", 1)[-1] for line in lines
            if line.startswith(("[WARNING]", "[ALERT]")) and "rasa_socketio" not in line
            and ("is DOWN" in line or "no server available" in line)]


def empty_calendar(database_url: str) -> None:
    """Every level starts with all places free (bureau.yml's capacity); conversations are kept."""
    engine = create_engine(database_url, future=True)
    try:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM bookings"))
            connection.execute(text("UPDATE slot_counters SET booked = 0"))
    finally:
        engine.dispose()


def calendar_check(database_url: str) -> Dict[str, int]:
    """Bookings made during the level and slots over capacity (must be 0)."""
    engine = create_engine(database_url, future=True)
    try:
        with engine.connect() as connection:
            booked = connection.execute(text("SELECT count(*) FROM bookings WHERE status = 'booked'")).scalar()
            over = connection.execute(text(
                "SELECT count(*) FROM slot_counters c WHERE c.booked > c.capacity OR c.booked <> "
                "(SELECT count(*) FROM bookings b WHERE b.date = c.date AND b.time = c.time AND b.status = 'booked')"
            )).scalar()
    finally:
        engine.dispose()
    return {"bookings": int(booked), "violations": int(over)}


def run_embedded(args, context: Context, results: List[Level], work: Path) -> None:
    folder = Path(tempfile.mkdtemp(prefix="embedded-", dir=work))
    database_url = f"sqlite:///{folder / 'bookings.sqlite3'}"
    assistant = Assistant(rasa_port=EMBEDDED_PORTS[0], action_port=EMBEDDED_PORTS[1],
                          env={**SERVER_ENV, "DATABASE_URL": database_url}, log_dir=folder / "logs")
    started = time.perf_counter()
    try:
        assistant.start()
        names = {name: assistant.processes[name].pid for name in ("rasa", "actions")}
        setup = Setup("embedded", f"{assistant.rasa_url}/webhooks/rest/webhook", names, OUR_MIX,
                      database_url=database_url, started_seconds=time.perf_counter() - started)
        run_levels(setup, args, context, results)
    finally:
        assistant.stop()


def run_cluster(args, context: Context, results: List[Level], work: Path) -> None:
    folder = Path(tempfile.mkdtemp(prefix="cluster-", dir=work))
    cluster = Cluster(base_port=CLUSTER_BASE_PORT, log_dir=folder / "logs", env=dict(SERVER_ENV))
    started = time.perf_counter()
    try:
        cluster.start()  # not `with`: Cluster.start() does not stop what it started when it fails
        order = ["rasa-1", "rasa-2", "actions-1", "actions-2", "haproxy"]
        names = {name: cluster.processes[name].pid for name in order if name in cluster.processes}
        setup = Setup("cluster", f"{cluster.url}/webhooks/rest/webhook", names, OUR_MIX,
                      database_url=cluster.database_url, postgres_database=cluster.database, redis=True,
                      started_seconds=time.perf_counter() - started, haproxy_log=folder / "logs" / "haproxy.log")
        run_levels(setup, args, context, results)
    finally:
        cluster.stop()


def rasa_executable() -> List[str]:
    rasa = ROOT / ".venv" / "bin" / "rasa"
    return [str(rasa)] if rasa.exists() else [sys.executable, "-m", "rasa"]


def stock_project(quiet: bool = False) -> Path:
    """The ``rasa init`` project with its trained model, made once per Rasa version."""
    version = importlib.metadata.version("rasa")
    project = STOCK_CACHE / f"rasa-{version}"
    if list((project / "models").glob("*.tar.gz")):
        if not quiet:
            print(f"stock assistant: cached in {project.relative_to(ROOT)}", flush=True)
        return project
    STOCK_CACHE.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"rasa-{version}-init-", dir=STOCK_CACHE))
    log = scratch.parent / f"{scratch.name}.log"
    print(f"stock assistant: `rasa init --no-prompt` and training (once for Rasa {version}; log in {log}) …",
          flush=True)
    started = time.perf_counter()
    try:
        with open(log, "wb") as output:
            subprocess.run([*rasa_executable(), "init", "--no-prompt", "--init-dir", str(scratch)], cwd=scratch,
                           env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"},
                           stdout=output, stderr=subprocess.STDOUT, check=True)
        if not list((scratch / "models").glob("*.tar.gz")):
            raise RuntimeError(f"rasa init trained no model; see {log}")
        shutil.rmtree(project, ignore_errors=True)
        scratch.rename(project)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    log.unlink(missing_ok=True)
    print(f"stock assistant: trained in {time.perf_counter() - started:.0f} s, kept in {project.relative_to(ROOT)}",
          flush=True)
    return project


def run_stock(args, context: Context, results: List[Level], work: Path) -> None:
    project = stock_project(quiet=True)
    folder = Path(tempfile.mkdtemp(prefix="stock-", dir=work))
    log = open(folder / "rasa-stock.log", "ab")
    env = {**os.environ, **SERVER_ENV, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [*rasa_executable(), "run", "--port", str(STOCK_PORT), "--model", str(project / "models"),
               "--credentials", str(project / "credentials.yml"), "--endpoints", str(project / "endpoints.yml")]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        url = f"http://127.0.0.1:{STOCK_PORT}"
        wait_until_answering({"rasa-stock": f"{url}/webhooks/rest/"}, {"rasa-stock": process}, 300, folder)
        setup = Setup("stock", f"{url}/webhooks/rest/webhook", {"rasa (stock)": process.pid}, (("stock", 1.0),),
                      started_seconds=time.perf_counter() - started)
        run_levels(setup, args, context, results)
    finally:
        stop_processes({"rasa-stock": process})
        log.close()


# --- printing ----------------------------------------------------------------------------------

def machine() -> List[str]:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = psutil.virtual_memory()
    load = os.getloadavg()
    return [
        f"date: {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        f"CPU: {os.cpu_count()} logical ({psutil.cpu_count(logical=False)} physical), {model}",
        f"RAM: {memory.total / 1024 ** 3:.1f} GiB ({memory.available / 1024 ** 3:.1f} GiB available)",
        f"OS: {platform.platform()}",
        f"Python {platform.python_version()}, Rasa {importlib.metadata.version('rasa')}, "
        f"rasa-sdk {importlib.metadata.version('rasa-sdk')}, aiohttp {aiohttp.__version__}",
        f"load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
    ]


def mib(value: int) -> str:
    return f"{value / MiB:.0f} MiB"


def print_level(level: Level) -> None:
    tally = level.tally
    print(f"\n### {level.config}, {level.citizens} concurrent citizen{'s' if level.citizens > 1 else ''}: "
          f"{tally.in_window} good replies in {tally.window:.1f} s (+{tally.messages - tally.in_window} "
          f"in flight at the end, answered {tally.seconds - tally.window:.1f} s later)", flush=True)
    print(f"   messages/s {level.rate:.1f}; reply latency median {level.median:.0f} ms, "
          f"p95 {level.percentile(0.95):.0f} ms, p99 {level.percentile(0.99):.0f} ms, "
          f"max {1000 * max(tally.latencies, default=float('nan')):.0f} ms")
    for kind, values in sorted(tally.latency_by_kind.items()):
        print(f"     {kind:<9} {len(values):5d} messages, median {1000 * statistics.median(values):.0f} ms, "
              f"max {1000 * max(values):.0f} ms")
    print(f"   errors: {level.error_count}" + (f" ({', '.join(f'{k} {v}' for k, v in tally.errors.items())})"
                                                if tally.errors else ""))
    for sample in tally.error_samples:
        print(f"     e.g. {sample}")
    done = sum(tally.outcomes.values())
    print(f"   conversations: {done} — " + ", ".join(f"{k} {v}" for k, v in sorted(tally.outcomes.items()))
          + f"; {tally.cut} cut by the end of the level")
    if tally.stage_asked or tally.full_retries:
        print(f"   stage questions answered: {tally.stage_asked}; places taken meanwhile (nearest offered): "
              f"{tally.full_retries}")
    if level.database:
        print(f"   in the database: {level.database['bookings']} active bookings, "
              f"{level.database['violations']} capacity violations")
    if level.balancer:
        downs = sum("is DOWN" in event for event in level.balancer)
        empty = sum("no server available" in event for event in level.balancer)
        print(f"   HAProxy: a server marked DOWN by its health check {downs}×, a backend with no server left "
              f"{empty}×; e.g. {level.balancer[0][:150]}")
    print("   peak RSS: " + ", ".join(f"{name} {mib(rss)}" for name, rss in level.peak_rss.items()))
    ours = sum(level.cpu.values())
    print("   CPU (100 % = one core): " + ", ".join(f"{name} {cpu:.0f} %" for name, cpu in level.cpu.items())
          + f"; whole machine {level.machine_cpu:.0f} % of {100 * os.cpu_count()} %, "
            f"of which other processes {max(0.0, level.machine_cpu - ours):.0f} %", flush=True)
    if level.busiest_others:
        print("   busiest other processes: " + "; ".join(f"{label} {cpu:.0f} %" for cpu, label in level.busiest_others),
              flush=True)


def limit_note(level: Level) -> str:
    cores = os.cpu_count() or 1
    servers = {k: v for k, v in level.cpu.items() if k != "load generator"}
    top = sorted(level.cpu.items(), key=lambda kv: -kv[1])
    breakdown = ", ".join(f"{k} {v:.0f} %" for k, v in top if v >= 1)
    other = max(0.0, level.machine_cpu - sum(level.cpu.values()))
    busy = level.machine_cpu / cores
    rasa_busy = [k for k, v in servers.items() if k.startswith("rasa") and v >= 85]
    if level.citizens == 1:
        name, cpu = max(servers.items(), key=lambda kv: kv[1])
        why = (f"one message at a time, so messages/s = 1 / latency; {name} uses {cpu:.0f} % of a core "
               f"answering (machine {busy:.0f} % busy)")
    elif busy >= 85:
        why = f"CPU: the {cores} cores are {busy:.0f} % busy"
        if rasa_busy:
            why += f", {', '.join(rasa_busy)} near one full core (one Python process, one event loop)"
    elif rasa_busy:
        why = (f"{', '.join(rasa_busy)} saturates one core (a Rasa server is one Python process, one event "
               f"loop); the machine is {busy:.0f} % busy")
    else:
        why = f"not the CPU (machine {busy:.0f} % busy): waiting on something (locks, I/O, the action server)"
    note = f"{why} — {breakdown}, other processes {other:.0f} %"
    downs = sum("is DOWN" in event for event in level.balancer)
    if downs:
        note += (f"; HAProxy marked busy servers DOWN {downs}× (their health check timed out: see `timeout "
                 f"check`, `inter` and `fall` in deploy/haproxy.cfg)")
        if any("no server available" in event for event in level.balancer):
            note += ", with no Rasa server left: HTTP 503 to citizens"
    return note


def ratio(numerator: Optional[Level], denominator: Optional[Level]) -> str:
    if not numerator or not denominator or not denominator.rate:
        return "–"
    text = f"{numerator.rate / denominator.rate:.2f}"
    failed = [f"{level.config} {level.error_count} errors" for level in (numerator, denominator) if level.error_count]
    return text + (f" ({', '.join(failed)})" if failed else "")


def summary(results: List[Level], args, wall: float) -> None:
    if not results:
        return
    print("\n## Summary (paste into docs/benchmarks.md)\n")
    others = [max(0.0, level.machine_cpu - sum(level.cpu.values())) for level in results]
    configs = {level.config for level in results}
    mixes = []
    if configs - {"stock"}:
        mixes.append(f"our mix {', '.join(f'{k} {w:.0%}' for k, w in OUR_MIX)} of conversations, the lawyer "
                     f"calendar emptied before each level")
    if "stock" in configs:
        mixes.append("the stock `rasa init` assistant with its own English mix")
    print(f"`{' '.join(['.venv/bin/python', 'benchmarks/load.py', *sys.argv[1:]])}` (levels "
          f"{','.join(map(str, args.levels))}, {args.duration:g} s each): REST channel; each simulated citizen "
          f"runs conversations back to back (no think time, a new sender id each); {'; '.join(mixes)}. "
          f"messages/s counts the good "
          f"replies within the level's {args.duration:g} s; latencies are per message, good replies only. Machine: "
          f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 1024 ** 3:.0f} GiB, shared: other processes "
          f"used {statistics.mean(others):.0f} % CPU on average during the levels (max {max(others):.0f} %, "
          f"100 % = one core); whole run {wall / 60:.1f} min.\n")
    print("| setup | citizens | messages/s | median ms | p95 ms | p99 ms | good replies | errors | conversations "
          "(bookings / ended full) | peak RSS | CPU (100 % = one core) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for level in results:
        conversations = sum(level.tally.outcomes.values())
        booked = level.tally.outcomes.get("booking: booked", 0)
        full = level.tally.outcomes.get("booking: ended full", 0)
        convo = f"{conversations}" + (f" ({booked} / {full})" if level.config != "stock" else "")
        rss = ", ".join(f"{name} {mib(value)}" for name, value in level.peak_rss.items())
        cpu = ", ".join(f"{name} {value:.0f}" for name, value in level.cpu.items() if value >= 0.5)
        cpu += f"; machine {level.machine_cpu:.0f}"
        print(f"| {level.config} | {level.citizens} | {level.rate:.1f} | {level.median:.0f} | "
              f"{level.percentile(0.95):.0f} | {level.percentile(0.99):.0f} | {level.tally.messages} | "
              f"{level.error_count} | {convo} | {rss} | {cpu} |")

    by = {(level.config, level.citizens): level for level in results}
    rows = []
    for citizens in args.levels:
        embedded, cluster, stock_level = (by.get((c, citizens)) for c in ("embedded", "cluster", "stock"))
        ours_vs_stock = ratio(embedded, stock_level)
        scaling = ratio(cluster, embedded)
        if ours_vs_stock != "–" or scaling != "–":
            rows.append((citizens, ours_vs_stock, scaling))
    if rows:
        print("\n| citizens | one replica of ours (embedded) / stock `rasa init`, messages/s | "
              "two replicas (cluster) / one (embedded), messages/s |")
        print("|---|---|---|")
        for citizens, ours_vs_stock, scaling in rows:
            print(f"| {citizens} | {ours_vs_stock} | {scaling} |")

    print("\nWhat limits throughput:")
    for level in results:
        print(f"- {level.config}, {level.citizens} citizen{'s' if level.citizens > 1 else ''}: {limit_note(level)}")
    cores = os.cpu_count()
    print(f"- Everything shares the same {cores} cores: the load generator (its CPU is in the figures above), "
          "for the cluster both Rasa replicas, both action servers, HAProxy, PostgreSQL and Redis, and whatever "
          "else runs on the machine (\"other processes\"). A Rasa server is one Python process with one event "
          "loop, so one replica uses about one core at most (TensorFlow's own threads add a little); the "
          "second replica can only add what the other core has left after the action servers, the databases, "
          "HAProxy and the load generator.")


# --- main --------------------------------------------------------------------------------------

def levels(value: str) -> List[int]:
    try:
        numbers = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("levels are whole numbers separated by commas, e.g. 1,10,50")
    if not numbers or min(numbers) < 1:
        raise argparse.ArgumentTypeError("at least one level, each at least 1")
    return numbers


def _terminate(signum, frame):  # SIGTERM as Ctrl-C: the finally blocks stop the servers
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60, help="seconds of load per level (default 60)")
    parser.add_argument("--levels", type=levels, default=[1, 10, 50],
                        help="concurrent citizens, comma-separated (default 1,10,50)")
    parser.add_argument("--skip-embedded", action="store_true", help="skip the embedded default")
    parser.add_argument("--skip-cluster", action="store_true", help="skip the two-replica production setup")
    parser.add_argument("--skip-stock", action="store_true", help="skip the stock `rasa init` assistant")
    parser.add_argument("--warm-up", type=float, default=10, help="seconds of unmeasured load after start")
    parser.add_argument("--pause", type=float, default=3, help="seconds of rest between levels")
    parser.add_argument("--timeout", type=float, default=60, help="seconds before a reply counts as timed out")
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _terminate)

    print("# Load benchmark: concurrent citizens over REST\n")
    print("command: " + " ".join([".venv/bin/python", "benchmarks/load.py", *sys.argv[1:]]))
    for line in machine():
        print(line)
    print(f"duration per level {args.duration:g} s, levels {','.join(map(str, args.levels))}", flush=True)

    context = Context(cases=triage_cases())
    results: List[Level] = []
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="load-benchmark-"))
    failed = False
    runs = [(name, run) for name, run, skip in (("embedded", run_embedded, args.skip_embedded),
                                                 ("cluster", run_cluster, args.skip_cluster),
                                                 ("stock", run_stock, args.skip_stock)) if not skip]
    try:
        if not args.skip_stock:
            stock_project()  # train first (if needed), so that the measured runs are not disturbed
        for name, run in runs:
            try:
                run(args, context, results, work)
            except Exception:  # e.g. no haproxy, PostgreSQL down: say so, go on with the others
                failed = True
                print(f"\n{name} FAILED (its servers are stopped):\n{traceback.format_exc()}", flush=True)
    except KeyboardInterrupt:
        failed = True
        print("\ninterrupted; servers stopped", flush=True)
    finally:
        wall = time.perf_counter() - started
        summary(results, args, wall)
        load = os.getloadavg()
        print(f"\nload average after the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
              f"wall time {wall / 60:.1f} min")
        if failed or any(level.error_count for level in results):
            print(f"servers' logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
