"""Booking throughput and latency under concurrent clients, on SQLite and on PostgreSQL.

    .venv/bin/python benchmarks/booking.py [--clients 20] [--oversubscribe 1.2] [--sqlite-only] [--skip-actions]

Each run uses a fresh database (a temporary SQLite file; a throwaway PostgreSQL database created
on the server at BENCHMARK_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test, and
dropped afterwards) and a fixed clock (Thursday 2026-11-26 08:00). The booking window then holds 8
lawyer days x 10 slots; with ``--capacity`` places per slot. The clients together attempt
``oversubscribe`` times as many bookings as there are places, each on a slot drawn at random (seeded),
so the last places of many slots are fought over and SlotFull refusals happen. Each attempt is a
full ``BookingService.book()`` call (validation, checks, limits, the atomic place, the insert, the
commit) with a new phone number.

Printed per database: confirmed bookings per second (wall clock), attempts per second, median and
95th percentile latency of book() (confirmed calls and all calls), and capacity violations, which
must be 0: slots with more active bookings than capacity, or whose counter disagrees with the rows.

The second part (skipped with ``--skip-actions``) measures the same load through the Rasa action
server, over real HTTP. For each database (again a fresh one) it starts ``python -m rasa_sdk
--actions actions`` as a subprocess with ``DATABASE_URL`` pointing at it and ``BOT_NOW`` at
2026-11-26 10:00, the bureau.yml of the repository (``lawyers_per_day`` places per slot) and
waits for ``GET /health``. ``--clients`` threads then POST to ``/webhook`` the request Rasa sends
when a citizen confirms a booking (``validate_lawyer_booking_form`` with ``booking_confirmed`` just
set by the form), each with a new conversation, message id and phone number, for a slot drawn at
random from six lawyer days (2026-12-02 to 12-18), ``oversubscribe`` times as many requests as there
are places. Each response must carry the ``booking_code`` (booked) or the ``full`` refusal;
anything else is an error. Afterwards the database must hold exactly the codes handed out and no
slot over capacity. Then the same clients ask ``action_ask_booking_time`` (the free times of a date)
as often, and every answer is checked against the free slots in the database. The action server is
stopped at the end, also on errors.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from actions.booking.errors import SlotFull  # noqa: E402
from actions.booking.models import BOOKED, Booking, SlotCounter  # noqa: E402
from actions.booking.service import BookingService  # noqa: E402
from actions.booking.slots import slot_times  # noqa: E402
from actions.bureau import DEFAULT_PATH, LawyerSessions, load_config  # noqa: E402
from actions.clock import SHANGHAI, parse_instant  # noqa: E402

NOW = dt.datetime(2026, 11, 26, 8, 0, tzinfo=SHANGHAI)
POSTGRES_URL = os.environ.get("BENCHMARK_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def benchmark_config(capacity: int):
    base = load_config(DEFAULT_PATH)
    sessions = LawyerSessions.parse_obj({
        "weekdays": ["wednesday", "friday"],
        "periods": [{"name": "上午", "start": "09:00", "end": "11:30"},
                    {"name": "下午", "start": "14:30", "end": "17:00"}],
        "slot_minutes": 30, "lawyers_per_day": capacity, "booking_window_days": 28, "cutoff_minutes": 60,
        "max_active_bookings_per_phone": 2, "max_bookings_per_phone_per_day": 1, "closures": {},
    })
    return base.copy(update={"lawyer_sessions": sessions})


def run(url: str, clients: int, capacity: int, oversubscribe: float, seed: int) -> dict:
    service = BookingService.open(url, config=benchmark_config(capacity), clock=lambda: NOW,
                                  pool_size=clients, max_overflow=0)
    try:
        slots = [(s.date, s.label) for day in _lawyer_days(service) for s in service.free_slots(day)]
        places = len(slots) * capacity
        attempts = int(places * oversubscribe)
        next_attempt = iter(range(attempts))
        lock = threading.Lock()
        results = []  # (ok, seconds)
        barrier = threading.Barrier(clients + 1)

        def client(number: int) -> None:
            rng = random.Random(seed * 1000 + number)
            barrier.wait()
            while True:
                with lock:
                    attempt = next(next_attempt, None)
                if attempt is None:
                    return
                day, label = rng.choice(slots)
                started = time.perf_counter()
                try:
                    service.book(date=day, time=label, name="王建国", phone=f"139{attempt:08d}",
                                 matter_summary="欠薪", idempotency_key=f"bench-{attempt}")
                    ok = True
                except SlotFull:
                    ok = False
                elapsed = time.perf_counter() - started
                with lock:
                    results.append((ok, elapsed))

        wall = _run_together([threading.Thread(target=client, args=(n,)) for n in range(clients)], barrier)

        confirmed = [seconds for ok, seconds in results if ok]
        every = [seconds for _, seconds in results]
        return {
            "places": places, "attempts": len(results), "confirmed": len(confirmed),
            "refused_full": len(results) - len(confirmed), "seconds": wall,
            "bookings_per_second": len(confirmed) / wall, "attempts_per_second": len(results) / wall,
            "median_ms": 1000 * statistics.median(confirmed), "p95_ms": 1000 * _p95(confirmed),
            "median_all_ms": 1000 * statistics.median(every), "p95_all_ms": 1000 * _p95(every),
            "violations": _capacity_violations(service, capacity),
        }
    finally:
        service.dispose()


def _run_together(threads, barrier) -> float:
    """Starts the client threads, releases them at once and returns the wall time until all end."""
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def _lawyer_days(service):
    today = NOW.date()
    days = (today + dt.timedelta(days=n) for n in range(service.rules.booking_window_days + 1))
    return [day for day in days if service.check_date(day) is None]


def _p95(values):
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def _capacity_violations(service, capacity: int) -> int:
    with service._sessions() as session:
        active = session.execute(
            select(Booking.date, Booking.time, func.count()).where(Booking.status == BOOKED)
            .group_by(Booking.date, Booking.time)
        ).all()
        counters = session.execute(select(SlotCounter.date, SlotCounter.time, SlotCounter.booked)).all()
    rows = {(day, slot_time): count for day, slot_time, count in active}
    violations = sum(1 for n in rows.values() if n > capacity)
    violations += sum(1 for day, slot_time, booked in counters if booked != rows.get((day, slot_time), 0))
    return violations


def _print(name: str, result: dict, clients: int) -> None:
    print(f"{name}: {clients} concurrent clients, {result['attempts']} attempts for {result['places']} places")
    print(f"  confirmed bookings/s : {result['bookings_per_second']:.0f}"
          f"  ({result['confirmed']} confirmed in {result['seconds']:.2f} s; {result['refused_full']} refused full)")
    print(f"  attempts/s           : {result['attempts_per_second']:.0f}")
    print(f"  book() latency       : median {result['median_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms"
          f"  (all attempts: median {result['median_all_ms']:.1f} ms, p95 {result['p95_all_ms']:.1f} ms)")
    print(f"  capacity violations  : {result['violations']}")


# --- part 2: the action server's booking actions over HTTP -------------------------------------

REPO = Path(__file__).resolve().parents[1]
ACTION_SERVER_PYTHON = REPO / ".venv" / "bin" / "python"
ACTION_NOW = "2026-11-26T10:00:00+08:00"  # BOT_NOW of the action server (a Thursday)
ACTION_DAYS = [dt.date(2026, 12, day) for day in (2, 4, 9, 11, 16, 18)]  # lawyer days (Wed, Fri)
RASA_VERSION = "3.6.21"
CONFIRM_ACTION = "validate_lawyer_booking_form"
ASK_TIME_ACTION = "action_ask_booking_time"
FORM = "lawyer_booking_form"
HEALTH_TIMEOUT_SECONDS = 120
REQUEST_TIMEOUT_SECONDS = 120


def run_actions(url: str, clients: int, oversubscribe: float, seed: int, folder: str) -> dict:
    """Start an action server on ``url`` (a fresh database), load it, check the database."""
    config = load_config(DEFAULT_PATH)
    capacity = config.lawyer_sessions.lawyers_per_day
    slots = [(day, t.strftime("%H:%M")) for day in ACTION_DAYS for t in slot_times(config.lawyer_sessions)]
    places = len(slots) * capacity
    attempts = int(places * oversubscribe)
    domain = _action_domain()
    run_id = secrets.token_hex(4)
    rng = random.Random(seed)
    # Built before the clock starts: (slot, phone, sender_id, request body).
    confirms = []
    for n in range(attempts):
        day, label = rng.choice(slots)
        sender_id = f"bench-{run_id}-{n:05d}-{uuid.uuid4().hex}"
        phone = f"139{n:08d}"
        body = _confirm_call(sender_id, day, label, phone, domain)
        confirms.append(((day, label), phone, sender_id, json.dumps(body, ensure_ascii=False).encode()))
    asks = []
    for n in range(attempts):
        day = rng.choice(ACTION_DAYS)
        sender_id = f"bench-{run_id}-ask-{n:05d}-{uuid.uuid4().hex}"
        asks.append((day, json.dumps(_ask_time_call(sender_id, day, domain), ensure_ascii=False).encode()))

    log_path = Path(folder) / "action-server.log"
    with _action_server(url, log_path) as port:
        # Warm-up (not measured): the first call opens the service and migrates the database.
        warm_up = _Client(port)
        try:
            warm_up_call = _ask_time_call(f"bench-{run_id}-warmup", ACTION_DAYS[0], domain)
            status, raw = warm_up.post(json.dumps(warm_up_call).encode())
        finally:
            warm_up.close()
        if status != 200:
            raise RuntimeError(f"warm-up call failed with HTTP {status}: {raw[:500]!r}\n{_tail(log_path)}")

        booking = _load(port, clients, confirms, key=lambda item: item[3],
                        judge=lambda item, status, payload: _confirm_outcome(status, payload))
        service = BookingService.open(url, config=config, clock=lambda: parse_instant(ACTION_NOW), migrate=False,
                                      pool_size=2, max_overflow=0)
        try:
            expected = {day: [s.label for s in service.free_slots(day)] for day in ACTION_DAYS}

            def offered(item, status, payload):
                return _ask_time_outcome(status, payload, expected[item[0]])

            asking = _load(port, clients, asks, key=lambda item: item[1], judge=offered)
            violations = _capacity_violations(service, capacity)
            with service._sessions() as session:
                rows = session.execute(
                    select(Booking.code, Booking.date, Booking.time, Booking.phone, Booking.conversation_id)
                    .where(Booking.status == BOOKED)
                ).all()
        finally:
            service.dispose()

    # The codes handed out over HTTP must be exactly the active bookings, each for its request.
    handed_out = {}
    for (item, (outcome, detail)) in zip(confirms, booking["outcomes"]):
        if outcome == "booked":
            (day, label), phone, sender_id, _ = item
            handed_out[detail] = (day, label, phone, sender_id)
    in_database = {code: (day, slot_time.strftime("%H:%M"), phone, conversation)
                   for code, day, slot_time, phone, conversation in rows}
    mismatched = sum(1 for code in handed_out.keys() | in_database.keys()
                     if handed_out.get(code) != in_database.get(code))
    count = booking["count"]
    return {
        "places": places, "capacity": capacity, "days": len(ACTION_DAYS), "slots": len(slots),
        "requests": sum(count.values()), "booked": count["booked"], "full": count["full"], "errors": count["error"],
        "codes": len(handed_out), "rows": len(in_database), "mismatched": mismatched, "violations": violations,
        "seconds": booking["seconds"], "requests_per_second": sum(count.values()) / booking["seconds"],
        "median_ms": 1000 * statistics.median(booking["all"]), "p95_ms": 1000 * _p95(booking["all"]),
        "booked_median_ms": 1000 * statistics.median(booking["booked"]) if booking["booked"] else float("nan"),
        "booked_p95_ms": 1000 * _p95(booking["booked"]) if len(booking["booked"]) > 1 else float("nan"),
        "error_samples": booking["error_samples"] + asking["error_samples"],
        "ask_requests": sum(asking["count"].values()), "ask_errors": asking["count"]["error"],
        "ask_seconds": asking["seconds"],
        "ask_requests_per_second": sum(asking["count"].values()) / asking["seconds"],
        "ask_median_ms": 1000 * statistics.median(asking["all"]), "ask_p95_ms": 1000 * _p95(asking["all"]),
        "ask_free_times": sum(len(times) for times in expected.values()),
    }


def _load(port: int, clients: int, items: list, key, judge) -> dict:
    """POST every item's body from ``clients`` threads at once; latency per call, outcome per item."""
    outcomes = [None] * len(items)
    latencies = [None] * len(items)
    next_item = iter(range(len(items)))
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client() -> None:
        connection = _Client(port)
        try:
            barrier.wait()
            while True:
                with lock:
                    index = next(next_item, None)
                if index is None:
                    return
                started = time.perf_counter()
                try:
                    status, raw = connection.post(key(items[index]))
                except Exception as error:  # refused, reset, timed out: counted as an error
                    status, raw = None, repr(error).encode()
                latencies[index] = time.perf_counter() - started
                try:
                    payload = json.loads(raw) if status is not None else None
                except ValueError:
                    payload = None
                try:
                    outcomes[index] = judge(items[index], status, payload) if payload is not None else \
                        ("error", f"HTTP {status}: {raw[:300]!r}")
                except Exception as error:  # a malformed answer is an error, not a crash
                    outcomes[index] = ("error", f"unexpected answer ({error!r}): {raw[:300]!r}")
        finally:
            connection.close()

    wall = _run_together([threading.Thread(target=client, daemon=True) for _ in range(clients)], barrier)

    count = {"booked": 0, "full": 0, "ok": 0, "error": 0}
    for outcome, _ in outcomes:
        count[outcome] += 1
    return {
        "outcomes": outcomes, "count": count, "seconds": wall, "all": latencies,
        "booked": [seconds for seconds, (outcome, _) in zip(latencies, outcomes) if outcome == "booked"],
        "error_samples": [detail for outcome, detail in outcomes if outcome == "error"][:5],
    }


def _confirm_outcome(status, payload):
    """("booked", code), ("full", None) or ("error", why) for a validate_lawyer_booking_form answer."""
    if status != 200:
        return "error", f"HTTP {status}: {json.dumps(payload, ensure_ascii=False)[:300]}"
    slots = {event["name"]: event.get("value")
             for event in payload.get("events", []) if event.get("event") == "slot"}
    responses = [message.get("response") for message in payload.get("responses", [])]
    if slots.get("booking_confirmed") is True and slots.get("booking_code"):
        return "booked", slots["booking_code"]
    if "utter_booking_refused_full" in responses and "booking_time" in slots and slots["booking_time"] is None:
        return "full", None
    return "error", f"neither booked nor full: events {payload.get('events')}, responses {responses}"


def _ask_time_outcome(status, payload, free_times):
    """("ok", None) if action_ask_booking_time offered exactly the free times of the date."""
    if status != 200:
        return "error", f"HTTP {status}: {json.dumps(payload, ensure_ascii=False)[:300]}"
    messages = payload.get("responses", [])
    if payload.get("events") or len(messages) != 1 or messages[0].get("response") != "utter_booking_offer_times":
        return "error", f"unexpected answer: {json.dumps(payload, ensure_ascii=False)[:300]}"
    offered = [button.get("payload") for button in messages[0].get("buttons") or []]
    wanted = [f'/inform{{"time":"{label}"}}' for label in free_times]
    if offered != wanted:
        return "error", f"offered {offered}, but the free times are {free_times}"
    return "ok", None


# --- the requests Rasa sends (shapes of DialogueStateTracker.current_state(EventVerbosity.ALL)) --

def _action_domain() -> dict:
    """The parts of domain.yml the action server uses (FormValidationAction reads ``forms``)."""
    import yaml

    with open(REPO / "domain.yml", encoding="utf-8") as file:
        domain = yaml.safe_load(file)
    return {key: domain[key] for key in ("slots", "forms", "responses")}


class _Clock:
    """Increasing event timestamps for one conversation."""

    def __init__(self) -> None:
        self.now = time.time() - 120

    def __call__(self) -> float:
        self.now += 0.5
        return self.now


def _action_event(name: str, ts: float) -> dict:
    return {"event": "action", "timestamp": ts, "name": name, "policy": None, "confidence": None,
            "action_text": None, "hide_rule_turn": False}


def _slot_event(name: str, value, ts: float) -> dict:
    return {"event": "slot", "timestamp": ts, "name": name, "value": value}


def _parse_data(text: str, intent: str, entities: list, message_id: str) -> dict:
    return {"intent": {"name": intent, "confidence": 0.98}, "entities": entities, "text": text,
            "message_id": message_id, "metadata": {}}


def _user_event(text: str, intent: str, entities: list, ts: float) -> dict:
    message_id = uuid.uuid4().hex
    return {"event": "user", "timestamp": ts, "text": text,
            "parse_data": _parse_data(text, intent, entities, message_id),
            "input_channel": "rest", "message_id": message_id, "metadata": {}}


def _bot_event(text: str, ts: float, utter_action: str) -> dict:
    return {"event": "bot", "timestamp": ts, "metadata": {"utter_action": utter_action}, "text": text,
            "data": {"elements": None, "quick_replies": None, "buttons": None, "attachment": None,
                     "image": None, "custom": None}}


def _entity(name: str, value: str) -> list:
    return [{"entity": name, "value": value, "start": 0, "end": len(value), "extractor": "RegexEntityExtractor"}]


def _form_conversation(clock: _Clock, answers: list) -> tuple:
    """Events of a conversation that started the booking form and answered ``answers``
    ((slot, text, entity, validated value, next slot)), and the message that started the form."""
    start = _user_event("我想预约律师", "book_lawyer", [], clock())
    events = [
        _action_event("action_session_start", clock()), {"event": "session_started", "timestamp": clock()},
        _action_event("action_listen", clock()), start,
        _action_event(FORM, clock()), {"event": "active_loop", "timestamp": clock(), "name": FORM},
        _slot_event("requested_slot", "booking_date", clock()),
        _bot_event("您想预约哪一天？", clock(), "action_ask_booking_date"), _action_event("action_listen", clock()),
    ]
    for slot, text, entity, value, next_slot in answers:
        events += [
            _user_event(text, "inform", _entity(entity, text) if entity else [], clock()),
            _slot_event(slot, text, clock()),  # action_extract_slots
            _action_event(FORM, clock()), _slot_event(slot, value, clock()),
            _slot_event("requested_slot", next_slot, clock()),
            _bot_event("……", clock(), f"action_ask_{next_slot}"), _action_event("action_listen", clock()),
        ]
    return events, start


def _tracker(sender_id: str, events: list, slots: dict, domain: dict, active_loop: dict,
             latest_message: dict) -> dict:
    values = {name: None for name in domain["slots"]}
    values.update(requested_slot=None, session_started_metadata=None)
    values.update(slots)
    return {
        "sender_id": sender_id, "slots": values, "latest_message": latest_message,
        "latest_event_time": events[-1]["timestamp"], "followup_action": None, "paused": False,
        "events": events, "latest_input_channel": "rest", "active_loop": active_loop,
        "latest_action": {"action_name": events[-1]["name"]}, "latest_action_name": events[-1]["name"],
    }


def _active_loop(start: dict) -> dict:
    return {"name": FORM, "is_interrupted": False, "rejected": False, "trigger_message": start["parse_data"]}


def _call(action: str, sender_id: str, tracker: dict, domain: dict) -> dict:
    return {"next_action": action, "sender_id": sender_id, "tracker": tracker, "domain": domain,
            "version": RASA_VERSION}


def _confirm_call(sender_id: str, day: dt.date, label: str, phone: str, domain: dict) -> dict:
    """What Rasa sends when the citizen answers "好的" (affirm) to the read-back: the conversation
    so far, the candidate ``booking_confirmed`` from action_extract_slots, then the form's own
    ``requested_slot`` / ``ActionExecuted(lawyer_booking_form)`` / ``SlotSet(booking_confirmed)``, so
    that ``tracker.slots_to_validate()`` (the trailing SlotSet events) is {booking_confirmed: True}."""
    clock = _Clock()
    values = {"booking_date": day.isoformat(), "booking_time": label, "citizen_name": "王建国",
              "citizen_phone": phone, "matter_summary": "公司拖欠三个月工资，想咨询怎么讨要"}
    said = {"booking_date": f"{day.month}月{day.day}日", "booking_time": label}
    entities = {"booking_date": "date", "booking_time": "time", "citizen_name": "person_name",
                "citizen_phone": "phone"}
    order = list(values) + ["booking_confirmed"]
    answers = [(slot, said.get(slot, values[slot]), entities.get(slot), values[slot], order[i + 1])
               for i, slot in enumerate(order[:-1])]
    events, start = _form_conversation(clock, answers)
    affirm = _user_event("好的，确认预约", "affirm", [], clock())
    events += [
        affirm, _slot_event("booking_confirmed", True, clock()),
        _slot_event("requested_slot", "booking_confirmed", clock()), _action_event(FORM, clock()),
        _slot_event("booking_confirmed", True, clock()),
    ]
    slots = dict(values, booking_confirmed=True, requested_slot="booking_confirmed")
    tracker = _tracker(sender_id, events, slots, domain, _active_loop(start), affirm["parse_data"])
    return _call(CONFIRM_ACTION, sender_id, tracker, domain)


def _ask_time_call(sender_id: str, day: dt.date, domain: dict) -> dict:
    """What Rasa sends to ask for the time once the date is validated: the form's temporary
    tracker ends with SlotSet(booking_date), SlotSet(requested_slot, booking_time)."""
    clock = _Clock()
    events, start = _form_conversation(clock, [])
    said = f"{day.month}月{day.day}日"
    inform = _user_event(said, "inform", _entity("date", said), clock())
    events += [
        inform, _slot_event("booking_date", said, clock()),
        _slot_event("requested_slot", "booking_date", clock()), _action_event(FORM, clock()),
        _slot_event("booking_date", day.isoformat(), clock()),
        _slot_event("requested_slot", "booking_time", clock()),
    ]
    slots = {"booking_date": day.isoformat(), "requested_slot": "booking_time"}
    tracker = _tracker(sender_id, events, slots, domain, _active_loop(start), inform["parse_data"])
    tracker["latest_action"] = {"action_name": FORM}
    tracker["latest_action_name"] = FORM
    return _call(ASK_TIME_ACTION, sender_id, tracker, domain)


# --- the action server subprocess --------------------------------------------------------------

class _Client:
    """One keep-alive HTTP connection to the action server (as Rasa's aiohttp session keeps one)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = None

    def post(self, body: bytes, path: str = "/webhook"):
        for attempt in (1, 2):
            reused = self.connection is not None
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT_SECONDS)
            try:
                self.connection.request("POST", path, body, {"Content-Type": "application/json"})
                response = self.connection.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection; the request is idempotent (same
                # message id, so the same idempotency key), so it is sent again once.
                self.close()
                if attempt == 2 or not reused:
                    raise

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tail(log_path: Path, lines: int = 30) -> str:
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "action server log (last lines):\n" + "\n".join(text[-lines:])


@contextlib.contextmanager
def _action_server(database_url: str, log_path: Path):
    """``python -m actions.server`` on a free port; stopped on exit, also on errors."""
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(REPO), DATABASE_URL=database_url, BOT_NOW=ACTION_NOW,
               SANIC_HOST="127.0.0.1")
    env.pop("BUREAU_CONFIG", None)  # the repository's bureau.yml, whose capacity is checked
    python = ACTION_SERVER_PYTHON if ACTION_SERVER_PYTHON.exists() else Path(sys.executable)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(python), "-m", "actions.server", "--port", str(port)],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stopped together, untouched by Ctrl-C
        )
        try:
            _wait_until_healthy(process, port, log_path)
            yield port
        finally:
            _stop(process)


def _wait_until_healthy(process: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the action server exited with {process.returncode}\n{_tail(log_path)}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/health")
            response = connection.getresponse()
            if response.status == 200 and json.loads(response.read()).get("status") == "ok":
                return
        except (OSError, http.client.HTTPException, ValueError):
            pass
        finally:
            connection.close()
        time.sleep(0.2)
    raise RuntimeError(f"the action server did not answer /health within {HEALTH_TIMEOUT_SECONDS} s\n"
                       f"{_tail(log_path)}")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the server's process group (Sanic shuts down), SIGKILL if it lingers."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # anything the server left behind in its group
    process.wait()


def _print_actions(name: str, result: dict, clients: int) -> None:
    print(f"{name} action server over HTTP: {clients} concurrent clients, {result['requests']} requests for"
          f" {result['places']} places ({result['days']} lawyer days x {result['slots'] // result['days']} slots"
          f" x {result['capacity']} lawyers)")
    print(f"  {CONFIRM_ACTION}: {result['requests_per_second']:.1f} requests/s"
          f"  ({result['requests']} requests in {result['seconds']:.2f} s)")
    print(f"    bookings made      : {result['booked']} (codes; {result['rows']} active rows in the database,"
          f" {result['mismatched']} not matching)")
    print(f"    refused full       : {result['full']}")
    print(f"    errors             : {result['errors']}")
    print(f"    webhook latency    : median {result['median_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms"
          f"  (bookings made: median {result['booked_median_ms']:.1f} ms, p95 {result['booked_p95_ms']:.1f} ms)")
    print(f"    capacity violations: {result['violations']}")
    print(f"  {ASK_TIME_ACTION}: {result['ask_requests_per_second']:.1f} requests/s"
          f"  ({result['ask_requests']} requests in {result['ask_seconds']:.2f} s; {result['ask_errors']} errors;"
          f" {result['ask_free_times']} free times left on the {result['days']} days)")
    print(f"    webhook latency    : median {result['ask_median_ms']:.1f} ms, p95 {result['ask_p95_ms']:.1f} ms")
    for sample in result["error_samples"]:
        print(f"    error: {sample[:500]}")


def _action_failures(result: dict) -> int:
    return result["violations"] + result["errors"] + result["mismatched"] + result["ask_errors"]


@contextlib.contextmanager
def _throwaway_postgres():
    """A new database on the server at POSTGRES_URL, dropped afterwards."""
    admin = create_engine(POSTGRES_URL, future=True, isolation_level="AUTOCOMMIT")
    name = f"booking_bench_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield str(make_url(POSTGRES_URL).set(database=name))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--capacity", type=int, default=25,
                        help="places per slot (lawyers_per_day) of the direct part; "
                             "the action server uses bureau.yml")
    parser.add_argument("--oversubscribe", type=float, default=1.2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--skip-actions", action="store_true",
                        help="skip the second part (the action server's booking actions over HTTP)")
    args = parser.parse_args()

    failures = 0
    with tempfile.TemporaryDirectory(prefix="booking-bench-") as folder:
        result = run(f"sqlite:///{folder}/bench.sqlite3", args.clients, args.capacity, args.oversubscribe, args.seed)
        _print("SQLite (WAL, synchronous=FULL)", result, args.clients)
        failures += result["violations"]
        if not args.skip_actions:
            result = run_actions(f"sqlite:///{folder}/actions.sqlite3", args.clients, args.oversubscribe,
                                 args.seed, folder)
            _print_actions("SQLite", result, args.clients)
            failures += _action_failures(result)
    if not args.sqlite_only:
        host = make_url(POSTGRES_URL).host
        with _throwaway_postgres() as url:
            result = run(url, args.clients, args.capacity, args.oversubscribe, args.seed)
            _print(f"PostgreSQL ({host})", result, args.clients)
            failures += result["violations"]
        if not args.skip_actions:
            with _throwaway_postgres() as url, tempfile.TemporaryDirectory(prefix="booking-bench-") as folder:
                result = run_actions(url, args.clients, args.oversubscribe, args.seed, folder)
                _print_actions(f"PostgreSQL ({host})", result, args.clients)
                failures += _action_failures(result)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
