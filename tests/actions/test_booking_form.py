"""The booking form's validation against a real (temporary SQLite) booking database."""

import asyncio
import datetime as dt
import inspect

from rasa_sdk.executor import CollectingDispatcher

from actions.booking_form import (
    ActionAskBookingConfirmed,
    ActionBookingDone,
    ValidateLawyerBookingForm,
    date_label,
    get_service,
    slot_label,
    time_label,
)
from tests.actions.conftest import make_tracker, user_event

FORM = ValidateLawyerBookingForm()


def validate(slot: str, value, slots=None, intent="inform", text=None):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker([user_event(intent, text or str(value))], slots or {})
    result = call(getattr(FORM, f"validate_{slot}"), value, dispatcher, tracker, {})
    return result, dispatcher.messages


def call(method, *args):
    """Validators that wait on the database are coroutines, as rasa_sdk awaits them."""
    result = method(*args)
    return asyncio.run(result) if inspect.iscoroutine(result) else result


def responses(messages):
    return [m.get("response") for m in messages]


def test_dates_and_times_are_read_back_absolutely():
    assert date_label(dt.date(2026, 12, 2)) == "12月2日（星期三）"
    assert time_label(dt.time(10, 0)) == "上午10:00"
    assert time_label(dt.time(14, 30)) == "下午2:30"
    assert slot_label(dt.date(2026, 12, 4), dt.time(12, 0)) == "12月4日（星期五）下午12:00"


def test_relative_date_with_time_fills_both():
    # The clock is Thursday 2026-11-26 10:00 (tests/actions/conftest.py).
    result, _ = validate("booking_date", "下周三上午十点")
    assert result == {"booking_date": "2026-12-02", "booking_time": "10:00"}


def test_a_button_date_is_taken_as_is():
    result, _ = validate("booking_date", "2026-12-04")
    assert result == {"booking_date": "2026-12-04"}


def test_not_a_lawyer_day_is_explained_with_free_dates():
    result, messages = validate("booking_date", "下周一")
    assert result == {"booking_date": None}
    assert responses(messages) == ["utter_booking_refused_not_lawyer_day", "utter_booking_offer_dates"]
    assert messages[1]["buttons"][0]["payload"] == '/inform{"date":"2026-11-27"}'  # tomorrow, a Friday


def test_past_and_unclear_dates():
    assert responses(validate("booking_date", "2026-10-02")[1])[0] == "utter_booking_refused_past"
    assert responses(validate("booking_date", "随便哪天")[1]) == ["utter_booking_date_unclear"]


def test_a_part_of_the_day_offers_the_free_times_in_it():
    result, messages = validate("booking_time", "下午", {"booking_date": "2026-12-02"})
    assert result == {"booking_time": None}
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert titles and all(t.startswith("下午") for t in titles)


def test_a_time_between_slots_is_refused_with_the_day_s_times():
    result, messages = validate("booking_time", "10:10", {"booking_date": "2026-12-02"})
    assert result == {"booking_time": None}
    assert responses(messages) == ["utter_booking_refused_not_a_slot", "utter_booking_offer_times"]


def test_invalid_name_phone_and_summary():
    assert validate("citizen_name", "我不想说")[0] == {"citizen_name": None}
    assert validate("citizen_name", "我叫王建国")[0] == {"citizen_name": "王建国"}
    assert validate("citizen_phone", "12345")[0] == {"citizen_phone": None}
    assert validate("citizen_phone", "138 0000 1234")[0] == {"citizen_phone": "13800001234"}
    assert validate("matter_summary", "   ")[0] == {"matter_summary": None}
    assert responses(validate("matter_summary", "很" * 201)[1]) == ["utter_booking_refused_summary_too_long"]


BOOKING = {
    "booking_date": "2026-12-02", "booking_time": "10:00", "citizen_name": "王建国",
    "citizen_phone": "13800001234", "matter_summary": "安置房不交付", "matter_type": "resettlement",
    "statutory_channel": "administrative_review",
}


def confirm(slots, message_id="m1", sender="citizen-1"):
    dispatcher = CollectingDispatcher()
    event = user_event("affirm", "确认")
    event["parse_data"]["message_id"] = message_id
    tracker = make_tracker([event], slots, sender=sender)
    tracker.latest_message["message_id"] = message_id
    return call(FORM.validate_booking_confirmed, True, dispatcher, tracker, {}), dispatcher.messages


def test_confirming_books_once_even_when_retried():
    first, _ = confirm(BOOKING)
    again, _ = confirm(BOOKING)
    assert first["booking_confirmed"] is True and first["booking_code"] == again["booking_code"]
    booked = get_service().bookings_on(dt.date(2026, 12, 2))
    assert len(booked) == 1 and booked[0].matter_type == "resettlement"


def test_a_full_slot_offers_the_nearest_free_times():
    capacity = get_service().config.lawyer_sessions.lawyers_per_day
    for i in range(capacity):
        confirm({**BOOKING, "citizen_phone": f"1390000{i:04d}"}, message_id=f"m{i}", sender=f"c{i}")
    result, messages = confirm({**BOOKING, "citizen_phone": "13700001111"}, message_id="late", sender="late")
    assert result == {"booking_time": None, "booking_confirmed": None}
    assert responses(messages) == ["utter_booking_refused_full", "utter_booking_offer_nearest"]


def test_deny_at_the_confirmation_asks_what_to_change():
    dispatcher = CollectingDispatcher()
    result = call(FORM.validate_booking_confirmed, False, dispatcher, make_tracker([user_event("deny", "不对")], BOOKING), {})
    assert result == {"booking_confirmed": None}
    assert responses(dispatcher.messages) == ["utter_booking_change_hint"]


def test_summary_and_success_then_personal_slots_are_cleared(run_action):
    messages, _ = run_action(ActionAskBookingConfirmed(), make_tracker([], BOOKING))
    assert "12月2日（星期三）上午10:00" in messages[0]["text"]
    done_slots = {**BOOKING, "booking_confirmed": True, "booking_code": "K7M3QX"}
    messages, events = run_action(ActionBookingDone(), make_tracker([], done_slots))
    assert messages[0]["response"] == "utter_booking_success"
    cleared = {e["name"] for e in events if e["event"] == "slot" and e["value"] is None}
    assert {"citizen_name", "citizen_phone", "matter_summary"} <= cleared


def test_every_refusal_reason_has_a_reply():
    import yaml

    from actions.booking.errors import Reason
    from tests.conftest import ROOT

    responses_in_domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
    missing = [r.value for r in Reason if f"utter_booking_refused_{r.value}" not in responses_in_domain]
    assert not missing


def test_idempotency_keys_differ_per_message_even_for_long_sender_ids():
    from actions.booking_form import idempotency_key

    sender = "x" * 300
    keys = set()
    for message_id in ("a", "b"):
        tracker = make_tracker([user_event("affirm", "好")], sender=sender)
        tracker.latest_message["message_id"] = message_id
        keys.add(idempotency_key(tracker))
    assert len(keys) == 2 and all(len(k) <= 128 for k in keys)


def test_what_the_citizen_typed_is_shown_as_typed_in_a_markdown_channel():
    from actions.booking_form import as_typed

    typed = "工资 __被拖欠__ *三个月* [链接](http://x) <b>"
    web = make_tracker([{"event": "user", "text": typed, "input_channel": "socketio", "parse_data": {}}])
    wechat = make_tracker([{"event": "user", "text": typed, "input_channel": "wechat", "parse_data": {}}])
    assert as_typed(typed, web) == r"工资 \_\_被拖欠\_\_ \*三个月\* \[链接\]\(http://x\) <b>"
    assert as_typed(typed, wechat) == typed  # plain-text channels show it unchanged
