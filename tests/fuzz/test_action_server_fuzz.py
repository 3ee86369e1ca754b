"""Fuzzing the action server, POST /webhook of ``python -m actions.server`` (actions/server.py).

Properties:

(a) without the shared secret (no header, or any wrong one) every call is answered 401 and nothing
    changes — not even a well-formed booking confirmation;
(b) with the secret, arbitrary bodies, deflate-encoded garbage and Rasa-shaped calls of every
    action of the domain with random trackers are answered 2xx or 4xx, never 5xx; a booking
    confirmation (``validate_lawyer_booking_form`` with ``booking_confirmed``) whose values the
    booking rules refuse never creates a booking, and cancel/check/reschedule calls with a wrong
    phone never change the session's legitimate booking;
and, as a positive control, a confirmation with the secret and only valid values does book (the
secret's holder is Rasa), once, however often it is repeated.
"""

from __future__ import annotations

import datetime as dt
import zlib
from typing import Any, Dict, Optional

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from actions.booking.errors import InvalidInput, InvalidPhone
from actions.booking.service import BookingService
from actions.booking.slots import parse_slot_time
from actions.booking.validation import validate_name, validate_phone, validate_summary
from actions.clock import parse_instant
from tests.fuzz.harness import (
    ACTIONS,
    ACTIONS_OTHER,
    BOT_NOW,
    LEGITIMATE_BOOKINGS,
    MAX_REQUEST_BYTES,
    SECRET,
    SECRET_HEADER,
    bookings,
    fuzz_settings,
    snapshot,
)
from tests.fuzz.strategies import (
    action_calls,
    content_types,
    deflate,
    domain,
    domain_actions,
    dumps,
    dumps_raw,
    events,
    json_values,
    malformed_json_bytes,
    nasty_text,
)

pytestmark = pytest.mark.e2e

WITH_SECRET = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
BOOKING_FIELDS = ("booking_date", "booking_time", "citizen_name", "citizen_phone", "matter_summary",
                  "booking_confirmed")
VALID = {
    "booking_date": ["2026-12-02", "2026-12-04", "2026-12-09", "2026-12-11"],
    "booking_time": ["09:00", "10:30", "14:30", "16:30"],
    "citizen_name": ["王建国", "李秀英", "欧阳先生", "买买提·艾力"],
    "citizen_phone": ["13912345678", "15000000001", "18612340000"],
    "matter_summary": ["工资被拖欠半年", "安置房不交付", "土地承包合同纠纷"],
    "booking_confirmed": [True],
}
INVALID_SAMPLES = {
    "booking_date": ["2026-11-28", "2026-11-25", "2020-12-02", "2027-12-01", "2026-02-30", "2026-13-01",
                     "0000-00-00", "2026-12-02T10:00", " 2026-12-02", "2026-12-02'; DROP TABLE bookings;--",
                     "9999-12-31", "下周三", "2026-12-03", "2026-1-2", "２０２６-１２-０２", 20261202, None],
    "booking_time": ["03:00", "10:07", "25:00", "12:00", "17:00", "08:59", "10:00:00", "10点", "24:00", "-1:00",
                     "10:00' OR '1'='1", 1000, None, "上午十点", "11:30"],
    "citizen_name": ["", " ", "x", "Robert'); DROP TABLE bookings;--", "<script>", "王", "不告诉你",
                     "王建国" * 10, 123, None, ["王建国"]],
    "citizen_phone": ["12345", "13800001234'--", "010-12345678", "+1 202 555 0100", "1380000123",
                      "138000012345", "", None, 13912345678, "１３９１２３４５６７８x"],
    "matter_summary": ["", " " * 5, "长" * 201, None, 42, {"a": 1}],
    "booking_confirmed": [False, None, "true", 1, "yes", "/affirm", [True], {"value": True}],
}


def webhook(assistant) -> str:
    return f"{assistant.action_url}/webhook"


# --------------------------------------------------------------------------- what the rules accept


@pytest.fixture(scope="module")
def rules(tmp_path_factory) -> BookingService:
    """The booking rules on a scratch database of this process, on the servers' clock: the oracle
    for "are these values bookable at all" (capacity aside)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz-rules') / 'scratch.sqlite3'}"
    service = BookingService.open(url, clock=lambda: parse_instant(BOT_NOW))
    yield service
    service.dispose()


def bookable(rules: BookingService, values: Dict[str, Any]) -> bool:
    """Whether a confirmation with these values could legitimately book (on an empty database)."""
    try:
        if values.get("booking_confirmed") is not True:
            return False
        date, time = values.get("booking_date"), values.get("booking_time")
        if not isinstance(date, str) or not isinstance(time, str):
            return False
        day, slot_time = dt.date.fromisoformat(date), parse_slot_time(time)
        if slot_time is None:
            return False
        validate_name(values.get("citizen_name"))
        validate_phone(values.get("citizen_phone"))
        validate_summary(values.get("matter_summary"))
        return rules.check_date(day) is None and rules.check_slot(day, slot_time) is None
    except (InvalidInput, ValueError, TypeError):  # what the validators refuse with; nothing wider
        return False


# --------------------------------------------------------------------------- Rasa-shaped calls


def confirmation_call(values: Dict[str, Any], sender: str, message_id: Any,
                      extra_events: Optional[list] = None, slots: Optional[Dict[str, Any]] = None,
                      action: str = "validate_lawyer_booking_form", form: str = "lawyer_booking_form") -> dict:
    """The call Rasa makes when a citizen confirms a booking: every value in the slots, the
    confirmation as the slot candidate that ends the events."""
    all_slots = {"requested_slot": "booking_confirmed", "matter_type": "labor", "statutory_channel": None}
    all_slots.update(slots or {})
    all_slots.update(values)
    return {
        "next_action": action,
        "sender_id": sender,
        "version": "3.6.21",
        "domain": domain(),
        "tracker": {
            "sender_id": sender,
            "slots": all_slots,
            "latest_message": {"text": "/affirm", "message_id": message_id,
                               "intent": {"name": "affirm", "confidence": 1.0}, "entities": []},
            "events": (extra_events or []) + [
                {"event": "user", "text": "/affirm", "parse_data": {"intent": {"name": "affirm"}}},
                {"event": "slot", "name": "booking_confirmed", "value": values.get("booking_confirmed")},
            ],
            "active_loop": {"name": form},
            "latest_action_name": "action_listen",
            "paused": False,
        },
    }


def field_value(name: str) -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(VALID[name]), st.sampled_from(VALID[name]),
                     st.sampled_from(INVALID_SAMPLES[name]), nasty_text, json_values)


forged_values = st.fixed_dictionaries({name: field_value(name) for name in BOOKING_FIELDS})
senders = st.one_of(st.just("fuzz-forger"), nasty_text, st.text(max_size=300))
message_ids = st.one_of(st.uuids().map(str), nasty_text, json_values)


def valid_values(draw_index: int = 0) -> Dict[str, Any]:
    return {name: VALID[name][draw_index % len(VALID[name])] for name in BOOKING_FIELDS}


# --------------------------------------------------------------------------- (a) without the secret


@pytest.fixture
def unchanged_bookings(fuzz, database_url, legitimate_booking):
    before = snapshot(database_url)
    yield
    assert snapshot(database_url) == before


def _not_the_secret(value: Any) -> bool:
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    # requests refuses header values with leading white space or line breaks; HTTP ignores the
    # white space around a value, so "<secret> " is the secret.
    return (text.strip() != SECRET and not text[:1].isspace() and "\r" not in text and "\n" not in text)


wrong_secrets = st.one_of(
    st.none(),
    st.just(""),
    st.sampled_from([SECRET.upper(), SECRET[:-1], SECRET + "\x00", SECRET * 2, SECRET[::-1], SECRET + "x",
                     "Bearer " + SECRET, SECRET.replace("-", "_")]),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=64),
    st.binary(max_size=40),
).filter(lambda value: value is None or _not_the_secret(value))


@fuzz_settings(100)
@given(
    secret=wrong_secrets,
    body=st.one_of(
        st.builds(lambda i: dumps(confirmation_call(valid_values(i), f"fuzz-nosecret-{i}", f"m{i}")),
                  st.integers(0, 11)),
        st.builds(dumps, action_calls()),
        malformed_json_bytes,
    ),
    compressed=st.booleans(),
    header_name=st.sampled_from([SECRET_HEADER, SECRET_HEADER.lower(), "X-Action-Server-Secrets",
                                 "Authorization", "X-Action-Server-Secret "]),
)
@example(secret=b"\xff\xfe" + SECRET.encode(), body=dumps(confirmation_call(valid_values(), "fuzz-x", "m")),
         compressed=False, header_name=SECRET_HEADER)  # was 400: a non-UTF-8 header broke the comparison
def test_without_the_secret_every_call_is_401(fuzz, assistant, unchanged_bookings,
                                               secret, body, compressed, header_name) -> None:
    headers: Dict[str, Any] = {"Content-Type": "application/json"}
    if secret is not None:
        headers[header_name.strip()] = secret
    if compressed:
        headers["Content-Encoding"] = "deflate"
        body = deflate(body)
    response = fuzz.send(ACTIONS, "POST", webhook(assistant), data=body, headers=headers,
                         example=(secret, header_name, body[:200], compressed))
    assert response.status_code == 401, (response.status_code, response.text[:200])
    assert response.json() == {"error": "unauthorized"}


@fuzz_settings(40)
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]),
       path=st.one_of(st.sampled_from(["/webhook", "/actions", "/webhook/", "/actions/", "/health", "/",
                                       "/webhooks", "/webhook%00", "/webhook/../actions", "/%2e%2e/actions"]),
                      st.from_regex(r"/[a-zA-Z0-9%._~-]{0,30}", fullmatch=True)),
       secret=st.sampled_from([None, SECRET, "wrong"]), body=st.sampled_from([None, b"{}", b"x" * 2_000]))
@example(method="GET", path="/actions", secret=None, body=b"{}")  # a body Sanic does not read for GET
def test_other_methods_and_paths(fuzz, assistant, unchanged_bookings, method, path, secret, body) -> None:
    headers = {SECRET_HEADER: secret} if secret else {}
    response = fuzz.send(ACTIONS_OTHER, method, f"{assistant.action_url}{path}", headers=headers, data=body,
                         example=(method, path, secret, body))
    assert response.status_code < 500
    if path in ("/actions", "/webhook") and secret != SECRET and \
            (method, path) in (("GET", "/actions"), ("POST", "/webhook")):
        assert response.status_code == 401
    if (method, path, secret) == ("GET", "/actions", SECRET):
        names = {entry["name"] for entry in response.json()}
        assert set(domain_actions()) <= names


# --------------------------------------------------------------------------- (b) with the secret


@fuzz_settings(150)
@given(data=st.one_of(malformed_json_bytes, st.builds(dumps, json_values)), content_type=content_types)
@example(data=b"[" * 100_000 + b"]" * 100_000, content_type="application/json")
@example(data=b'{"next_action": "action_check_booking", "tracker": []}', content_type="application/json")
@example(data=b'{"next_action": "validate_lawyer_booking_form", "tracker": {"sender_id": "x", "events": [1]}}',
         content_type="application/json")
def test_arbitrary_bodies_with_the_secret(fuzz, assistant, unchanged_bookings, data, content_type) -> None:
    headers = {SECRET_HEADER: SECRET}
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = fuzz.send(ACTIONS, "POST", webhook(assistant), data=data, headers=headers, example=data)
    assert response.status_code in (200, 400, 404), (response.status_code, response.text[:200])


@fuzz_settings(200)
@given(call=action_calls(), raw=st.booleans())
@example(call={"next_action": "action_check_booking", "tracker": {"sender_id": "x", "slots": {
    "booking_code": "' OR 1=1 --", "citizen_phone": "13800001234' OR '1'='1"}}}, raw=False)
@example(call={"next_action": "validate_lawyer_booking_form", "domain": None,
               "tracker": {"sender_id": "x", "events": [{"event": "slot", "name": "booking_confirmed",
                                                          "value": True}]}}, raw=False)
@example(call={"next_action": "action_session_start", "tracker": {"sender_id": "\ud800", "events": None}},
         raw=True)
def test_rasa_shaped_calls_of_every_action(fuzz, assistant, unchanged_bookings, call, raw) -> None:
    data = dumps_raw(call) if raw else dumps(call)
    response = fuzz.send(ACTIONS, "POST", webhook(assistant), data=data, headers=WITH_SECRET, example=call)
    assert response.status_code in (200, 400, 404), (response.status_code, response.text[:200])
    if response.status_code == 200:
        answer = response.json()
        assert isinstance(answer.get("events"), list) and isinstance(answer.get("responses"), list)


@fuzz_settings(160)
@given(values=forged_values, sender=senders, message_id=message_ids, extra=st.one_of(st.none(), events()),
       matter=st.fixed_dictionaries({"matter_type": json_values, "statutory_channel": json_values}),
       raw=st.booleans())
@example(values={**valid_values(), "citizen_phone": "13800001234' OR '1'='1"}, sender="fuzz-forger",
         message_id="m1", extra=None, matter={}, raw=False)
@example(values={**valid_values(), "booking_confirmed": "true"}, sender="fuzz-forger", message_id="m2",
         extra=None, matter={}, raw=False)
@example(values={**valid_values(), "booking_date": "2026-11-28"}, sender="fuzz-forger", message_id="m3",
         extra=None, matter={}, raw=False)
@example(values={**valid_values(), "citizen_name": "王\x00建国"}, sender="fuzz-forger", message_id="m4",
         extra=None, matter={}, raw=False)
def test_forged_confirmations_with_values_the_rules_refuse_never_book(
        fuzz, assistant, database_url, rules, unchanged_bookings, values, sender, message_id, extra, matter, raw):
    assume(not bookable(rules, values))
    before = snapshot(database_url)
    call = confirmation_call(values, sender, message_id, extra_events=extra, slots=matter)
    data = dumps_raw(call) if raw else dumps(call)
    response = fuzz.send(ACTIONS, "POST", webhook(assistant), data=data, headers=WITH_SECRET, example=values)
    assert response.status_code in (200, 400), (response.status_code, response.text[:200])
    if response.status_code == 200:
        set_to = {e.get("name"): e.get("value") for e in response.json()["events"] if e.get("event") == "slot"}
        assert "booking_code" not in set_to and set_to.get("booking_confirmed") is not True, set_to
    assert snapshot(database_url) == before, values


@fuzz_settings(120)
@given(action=st.sampled_from(["action_cancel_booking", "action_check_booking", "validate_reschedule_form",
                               "validate_booking_lookup_form", "action_reschedule_done"]),
       phone=st.one_of(st.sampled_from(["13800001235", "13900001234", "138 0000 1234x", "", "13800001234' --",
                                        "%", "138%", "1380000123_"]), nasty_text, json_values),
       code_variant=st.sampled_from(["same", "lower", "spaced", "sql", "other"]),
       values=st.fixed_dictionaries({"booking_date": field_value("booking_date"),
                                     "booking_time": field_value("booking_time"),
                                     "booking_confirmed": field_value("booking_confirmed")}))
def test_a_booking_cannot_be_changed_without_its_phone(fuzz, assistant, database_url, legitimate_booking,
                                                       unchanged_bookings, action, phone, code_variant, values):
    assume(phone != legitimate_booking["phone"])
    # assume() signals by raising, so it stays outside the try: only the phone's reading is guarded.
    try:
        as_validated = validate_phone(phone)
    except (InvalidPhone, TypeError, AttributeError):
        as_validated = None
    assume(as_validated != legitimate_booking["phone"])
    code = legitimate_booking["code"]
    code = {"same": code, "lower": code.lower(), "spaced": f" {code[:3]} {code[3:]} ",
            "sql": f"{code}' OR '1'='1", "other": "ZZZZZZ"}[code_variant]
    form = "reschedule_form" if "reschedule" in action else "booking_lookup_form"
    call = confirmation_call(values, "fuzz-stranger", "stranger-message", action=action, form=form,
                             slots={"booking_code": code, "citizen_phone": phone})
    call["tracker"]["events"].insert(-1, {"event": "slot", "name": "citizen_phone", "value": phone})
    response = fuzz.send(ACTIONS, "POST", webhook(assistant), data=dumps(call), headers=WITH_SECRET,
                         example=(action, phone, code, values))
    assert response.status_code in (200, 400), (response.status_code, response.text[:200])
    current = {row["code"]: row for row in bookings(database_url)}[legitimate_booking["code"]]
    assert current == legitimate_booking


@fuzz_settings(120)
@given(
    data=st.one_of(
        st.binary(max_size=500),
        st.builds(deflate, malformed_json_bytes),
        st.builds(deflate, st.builds(dumps, json_values)),
        st.builds(deflate, st.builds(dumps, action_calls())),
        st.builds(lambda b, n: deflate(b)[:n], st.builds(dumps, action_calls()), st.integers(0, 40)),
        st.builds(lambda b: zlib.compress(b)[2:-4], st.builds(dumps, json_values)),  # raw deflate, no header
        st.builds(lambda b: __import__("gzip").compress(b), st.builds(dumps, json_values)),
        st.builds(lambda b, junk: deflate(b) + junk, st.builds(dumps, action_calls()), st.binary(min_size=1)),
    ),
    encoding=st.sampled_from(["deflate", "deflate", "Deflate", "gzip", "deflate, gzip", ""]),
)
@example(data=b"not deflate at all", encoding="deflate")
@example(data=b"x\x9c", encoding="deflate")
@example(data=zlib.compress(b"[]"), encoding="deflate")
@example(data=zlib.compress(b'{"next_action": "action_triage"}'), encoding="deflate")
@example(data=zlib.compress(b"\xff\xfe\xfd"), encoding="deflate")
def test_deflate_encoded_garbage(fuzz, assistant, unchanged_bookings, data, encoding) -> None:
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json", "Content-Encoding": encoding}
    response = fuzz.send(ACTIONS, "POST", webhook(assistant), data=data, headers=headers, example=(data, encoding))
    assert response.status_code in (200, 400, 404, 413), (response.status_code, response.text[:200])


def test_a_deflated_call_from_rasa_is_still_served(fuzz, assistant, unchanged_bookings) -> None:
    """What Rasa sends with COMPRESS_ACTION_SERVER_REQUEST=true works as before the deflate checks."""
    call = {**confirmation_call(valid_values(), "fuzz-deflate", "d1"), "next_action": "action_ask_booking_date"}
    headers = {**WITH_SECRET, "Content-Encoding": "deflate"}
    response = fuzz.send(ACTIONS, "POST", webhook(assistant), data=deflate(dumps(call)), headers=headers,
                         example="deflated action_ask_booking_date")
    assert response.status_code == 200, response.text[:200]
    [offer] = response.json()["responses"]
    assert offer["response"] == "utter_booking_offer_dates" and offer["buttons"]


@fuzz_settings(3)
@given(megabytes=st.integers(min_value=20, max_value=300))
def test_deflate_bombs_are_refused(fuzz, assistant, unchanged_bookings, megabytes) -> None:
    """A body of a few hundred kB that inflates to hundreds of MB must not be inflated whole."""
    inflater = zlib.compressobj(9)
    data = inflater.compress(b'{"next_action": "action_triage", "tracker": {"sender_id": "bomb", "x": "')
    chunk = b" " * (1 << 20)
    for _ in range(megabytes):
        data += inflater.compress(chunk)
    data += inflater.compress(b'"}}') + inflater.flush()
    assert len(data) < MAX_REQUEST_BYTES
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json", "Content-Encoding": "deflate"}
    response = fuzz.send(ACTIONS, "POST", webhook(assistant), data=data, headers=headers,
                         example=f"deflate bomb of {megabytes} MB in {len(data)} bytes")
    assert response.status_code in (400, 413), (response.status_code, response.text[:200])


@fuzz_settings(4)
@given(size=st.integers(min_value=MAX_REQUEST_BYTES + 1, max_value=int(MAX_REQUEST_BYTES * 1.5)),
       secret=st.sampled_from([SECRET, None]))
@example(size=MAX_REQUEST_BYTES + 1, secret=SECRET)
def test_body_over_the_request_limit_is_413(fuzz, assistant, unchanged_bookings, size, secret) -> None:
    """413 (it was 400, "not a JSON object": Sanic runs the request middleware again for its error
    answer, with the body unread); without the secret, still 401."""
    headers = {"Content-Type": "application/json", **({SECRET_HEADER: secret} if secret else {})}
    response = fuzz.send(ACTIONS, "POST", webhook(assistant), data=b"[" + b" " * (size - 2) + b"]",
                         headers=headers, allow_reset=True, example=(size, secret))
    assert response is None or response.status_code == (413 if secret else 401), response.status_code


# --------------------------------------------------------------------------- positive control


def test_a_valid_confirmation_with_the_secret_books_once(fuzz, assistant, database_url, rules) -> None:
    """The forged calls above are shaped right: with the secret and valid values, the same call books,
    and repeating it (Rasa's retry: the same sender and message id) gives the same booking."""
    values = {**valid_values(1), "citizen_phone": "15000000001"}
    assert bookable(rules, values)
    call = confirmation_call(values, "fuzz-control-citizen", "control-message-1")
    before = {row["code"] for row in bookings(database_url)}
    answers = [fuzz.send(ACTIONS, "POST", webhook(assistant), data=dumps(call), headers=WITH_SECRET,
                         example="positive control") for _ in range(3)]
    made = [row for row in bookings(database_url) if row["code"] not in before]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert len(made) == 1, made
    codes = set()
    for answer in answers:
        set_to = {e["name"]: e["value"] for e in answer.json()["events"] if e.get("event") == "slot"}
        assert set_to.get("booking_confirmed") is True
        codes.add(set_to.get("booking_code"))
    assert codes == {made[0]["code"]}
    LEGITIMATE_BOOKINGS[made[0]["code"]] = made[0]
