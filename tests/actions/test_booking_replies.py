"""Every refusal the booking forms can give reaches the citizen filled in.

Each path of actions/booking_form.py is driven against a real (temporary SQLite) booking database;
what the action server sends is then rendered by the Rasa server's response generator (bot/nlg.py) as
Rasa does it (``RemoteAction._utter_responses``), which raises on a ``{placeholder}`` without a value
(STRICT_TEMPLATES, tests/conftest.py). Clock: Thursday 2026-11-26 10:00 (tests/actions/conftest.py);
lawyers on Wednesdays and Fridays, 09:00–11:30 and 14:30–17:00, 30-minute slots, 60-minute cut-off.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
from typing import Dict, List

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk.executor import CollectingDispatcher

from actions.booking.errors import Reason
from actions.booking_form import (
    ActionAskBookingDate,
    ActionCancelBooking,
    ActionCheckBooking,
    ValidateLawyerBookingForm,
    ValidateRescheduleForm,
    get_service,
    refuse,
)
from bot.nlg import BureauFactsNLG
from tests.actions.conftest import make_tracker, user_event
from tests.conftest import ROOT

DOMAIN = Domain.load(str(ROOT / "domain.yml"))
NLG = BureauFactsNLG(domain=DOMAIN)
FORM = ValidateLawyerBookingForm()
RESCHEDULE = ValidateRescheduleForm()
WEDNESDAY = dt.date(2026, 12, 2)
BOOKING = {
    "booking_date": "2026-12-02", "booking_time": "10:00", "citizen_name": "王建国",
    "citizen_phone": "13800001234", "matter_summary": "安置房不交付", "matter_type": "resettlement",
}


def spoken(messages: List[Dict]) -> List[str]:
    """What the citizen reads: each message rendered as Rasa renders an action server's messages."""
    tracker = DialogueStateTracker.from_events("citizen-1", [], slots=DOMAIN.slots)
    texts = []
    for message in messages:
        message = dict(message)
        name = message.pop("response", None)
        if name:
            draft = asyncio.run(NLG.generate(name, tracker, "rest", **message))
            assert draft is not None, f"{name} is not a response of domain.yml"
            text = draft.get("text") or ""
        else:
            text = message.get("text") or ""
        assert "{" not in text and "}" not in text, text
        texts.append(text)
    return texts


def call(method, *args):
    result = method(*args)
    return asyncio.run(result) if inspect.iscoroutine(result) else result


def validate(form, slot: str, value, slots=None):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker([user_event("inform", str(value))], slots or {})
    result = call(getattr(form, f"validate_{slot}"), value, dispatcher, tracker, {})
    return result, dispatcher.messages


def confirm(form, slots, message_id="m1", sender="citizen-1"):
    dispatcher = CollectingDispatcher()
    event = user_event("affirm", "确认")
    tracker = make_tracker([event], slots, sender=sender)
    tracker.latest_message["message_id"] = message_id
    return call(form.validate_booking_confirmed, True, dispatcher, tracker, {}), dispatcher.messages


def responses(messages):
    return [m.get("response") for m in messages]


def book(day=WEDNESDAY, time="10:00", phone="13900000000", key=None):
    return get_service().book(date=day, time=time, name="李阿姨", phone=phone, matter_summary="欠薪",
                              idempotency_key=key or f"{day}-{time}-{phone}")


# --- the confirmation (the reported defect: a raw {slot_label}) --------------------------------

def test_a_confirmation_past_the_cut_off_names_the_slot(monkeypatch):
    monkeypatch.setenv("BOT_NOW", "2026-12-02T09:30:00+08:00")  # 30 minutes before 10:00
    result, messages = confirm(FORM, BOOKING)
    assert responses(messages)[0] == "utter_booking_refused_too_late"
    assert result["booking_time"] is None  # the time is asked again, with other times offered
    text = spoken(messages)[0]
    assert "12月2日（星期三）上午10:00" in text


def test_a_confirmation_of_a_time_that_is_no_slot_names_it():
    result, messages = confirm(FORM, {**BOOKING, "booking_time": "10:10"})
    assert responses(messages) == ["utter_booking_refused_not_a_slot", "utter_booking_offer_times"]
    assert result["booking_time"] is None
    assert "上午10:10" in spoken(messages)[0]


def test_a_confirmation_of_a_day_closed_meanwhile_gives_the_reason():
    get_service().add_closure(WEDNESDAY, "单位集中学习")
    result, messages = confirm(FORM, BOOKING)
    assert responses(messages)[0] == "utter_booking_refused_closure"
    assert result["booking_date"] is None
    assert "单位集中学习" in spoken(messages)[0]


def test_a_confirmation_of_a_full_slot_and_the_limits():
    for i in range(get_service().config.lawyer_sessions.lawyers_per_day):
        book(phone=f"1390000{i:04d}")
    _, messages = confirm(FORM, BOOKING)
    assert responses(messages)[0] == "utter_booking_refused_full"
    assert "12月2日（星期三）上午10:00" in spoken(messages)[0]

    book(time="14:30", phone="13700001111")
    _, messages = confirm(FORM, {**BOOKING, "booking_time": "15:00", "citizen_phone": "13700001111"})
    assert responses(messages) == ["utter_booking_refused_limit_per_day"]
    assert "12月2日（星期三）" in spoken(messages)[0]

    book(day=dt.date(2026, 12, 4), phone="13700001111")
    _, messages = confirm(FORM, {**BOOKING, "booking_date": "2026-12-09", "citizen_phone": "13700001111"},
                          message_id="m3")
    assert responses(messages) == ["utter_booking_refused_limit_active"]
    assert "2个" in spoken(messages)[0]


def test_moving_a_booking_past_the_cut_off_or_to_no_slot(monkeypatch):
    booking = book(day=dt.date(2026, 12, 4), phone="13800001234")
    slots = {"booking_code": booking.code, "citizen_phone": "13800001234",
             "booking_date": "2026-12-02", "booking_time": "10:00"}
    _, messages = confirm(RESCHEDULE, {**slots, "booking_time": "10:10"})
    assert responses(messages)[0] == "utter_booking_refused_not_a_slot"
    spoken(messages)
    monkeypatch.setenv("BOT_NOW", "2026-12-02T09:30:00+08:00")
    _, messages = confirm(RESCHEDULE, slots)
    assert responses(messages)[0] == "utter_booking_refused_too_late"
    assert "12月2日（星期三）上午10:00" in spoken(messages)[0]


# --- the date and the time ------------------------------------------------------------------------

@pytest.mark.parametrize("typed, now, reply", [
    ("2026-10-02", None, "utter_booking_refused_past"),
    ("2026-12-30", None, "utter_booking_refused_too_far"),
    ("2026-11-30", None, "utter_booking_refused_not_lawyer_day"),
    ("2026-10-02", "2026-09-28T10:00:00+08:00", "utter_booking_refused_holiday"),  # 国庆
    ("2026-11-27", "2026-11-27T16:00:00+08:00", "utter_booking_day_too_late"),  # every slot past cut-off
])
def test_a_date_that_cannot_be_booked_is_explained(monkeypatch, typed, now, reply):
    if now:
        monkeypatch.setenv("BOT_NOW", now)
    result, messages = validate(FORM, "booking_date", typed)
    assert result == {"booking_date": None}
    assert responses(messages)[0] == reply
    assert spoken(messages)[0]


def test_a_closed_and_a_full_day():
    get_service().add_closure(dt.date(2026, 12, 4), "单位集中学习")
    _, messages = validate(FORM, "booking_date", "2026-12-04")
    assert responses(messages)[0] == "utter_booking_refused_closure"
    assert "单位集中学习" in spoken(messages)[0]
    for number, slot in enumerate(get_service().slots(WEDNESDAY)):
        for place in range(slot.capacity):
            book(time=slot.label, phone=f"139{number:04d}{place:04d}")
    _, messages = validate(FORM, "booking_date", "2026-12-02")
    assert responses(messages) == ["utter_booking_day_full", "utter_booking_offer_nearest"]
    assert "12月2日（星期三）" in spoken(messages)[0]


@pytest.mark.parametrize("typed, now, reply", [
    ("10:10", None, "utter_booking_refused_not_a_slot"),
    ("10:00", "2026-12-02T09:30:00+08:00", "utter_booking_refused_too_late"),
])
def test_a_time_that_cannot_be_booked_is_explained(monkeypatch, typed, now, reply):
    if now:
        monkeypatch.setenv("BOT_NOW", now)
    result, messages = validate(FORM, "booking_time", typed, {"booking_date": "2026-12-02"})
    assert result == {"booking_time": None}
    assert responses(messages)[0] == reply
    spoken(messages)


def test_a_time_on_a_day_closed_after_it_was_chosen():
    get_service().add_closure(WEDNESDAY, "单位集中学习")
    # The date was validated before the closure: the time's check meets the closed day.
    result, messages = validate(FORM, "booking_time", "10:00", {"booking_date": "2026-12-02"})
    assert responses(messages)[0] == "utter_booking_refused_closure"
    assert "单位集中学习" in spoken(messages)[0]


def test_all_sessions_full_offers_12348_legal_aid_and_the_reception(run_action):
    service = get_service()
    day = service.now().date()
    while day <= service.last_bookable_date():
        if service.check_date(day) is None:
            service.add_closure(day, "单位集中学习")
        day += dt.timedelta(days=1)
    messages, _ = run_action(ActionAskBookingDate(), make_tracker([], {}))
    assert responses(messages) == ["utter_booking_no_free_slots"]
    text = spoken(messages)[0]
    facts = service.config.template_values()
    assert facts["hotline_legal_services"] in text and "12348" in text
    assert "法律援助" in text and facts["bureau_address"] in text
    assert "过几天" not in text


# --- values, lookups ------------------------------------------------------------------------------

@pytest.mark.parametrize("slot, typed", [
    ("citizen_name", "我不想说"), ("citizen_name", "王" * 30), ("citizen_phone", "12345"),
    ("citizen_phone", "010-12345678"), ("matter_summary", "   "), ("matter_summary", "很" * 201),
])
def test_invalid_values_are_explained(slot, typed):
    result, messages = validate(FORM, slot, typed)
    assert result == {slot: None}
    assert spoken(messages)[0]


def test_lookups_that_fail_are_explained(run_action, monkeypatch):
    booking = book(day=dt.date(2026, 12, 4), phone="13800001234")
    messages, _ = run_action(ActionCheckBooking(), make_tracker([], {"booking_code": "ZZZZZZ",
                                                                    "citizen_phone": "13800001234"}))
    assert responses(messages) == ["utter_booking_refused_not_found"]
    spoken(messages)
    slots = {"booking_code": booking.code, "citizen_phone": "13800001234"}
    monkeypatch.setenv("BOT_NOW", "2026-12-04T10:05:00+08:00")
    messages, _ = run_action(ActionCancelBooking(), make_tracker([], slots))
    assert responses(messages) == ["utter_booking_refused_already_started"]
    spoken(messages)


# --- every reason, in every context a refusal is made in --------------------------------------------

# The time and confirmation checks: any reason the service can give (a surname alone is the name
# question's own, and always comes with the surname: below).
SLOT_CONTEXT = [reason for reason in Reason if reason != Reason.SURNAME_ONLY]
DAY_CONTEXT = [Reason.PAST, Reason.TOO_FAR, Reason.NOT_LAWYER_DAY, Reason.HOLIDAY, Reason.CLOSURE,
               Reason.TOO_LATE, Reason.FULL, Reason.LIMIT_PER_DAY]  # the date check (check_date)
NO_CONTEXT = [Reason.INVALID_PHONE, Reason.NOT_MOBILE, Reason.INVALID_NAME, Reason.NAME_TOO_LONG,
              Reason.EMPTY_SUMMARY, Reason.SUMMARY_TOO_LONG, Reason.NOT_FOUND, Reason.NOT_ACTIVE,
              Reason.ALREADY_STARTED, Reason.LIMIT_ACTIVE]  # values and lookups (checked, _find, cancel)


@pytest.mark.parametrize("reason", SLOT_CONTEXT, ids=str)
def test_every_reason_renders_for_a_slot(reason):
    dispatcher = CollectingDispatcher()
    refuse(dispatcher, reason, day=WEDNESDAY, time=dt.time(10))
    assert spoken(dispatcher.messages)[0]


@pytest.mark.parametrize("reason", DAY_CONTEXT, ids=str)
def test_every_date_reason_renders_for_a_day(reason):
    dispatcher = CollectingDispatcher()
    refuse(dispatcher, reason, day=WEDNESDAY)
    assert "12月2日（星期三）" in spoken(dispatcher.messages)[0] or reason == Reason.LIMIT_PER_DAY


@pytest.mark.parametrize("reason", NO_CONTEXT, ids=str)
def test_every_value_and_lookup_reason_renders_alone(reason):
    dispatcher = CollectingDispatcher()
    refuse(dispatcher, reason)
    assert spoken(dispatcher.messages)[0]


def test_a_surname_alone_is_asked_about_kindly_with_the_surname():
    dispatcher = CollectingDispatcher()
    refuse(dispatcher, Reason.SURNAME_ONLY, surname="刘")
    text = spoken(dispatcher.messages)[0]
    assert "您姓刘" in text and "刘先生" in text and "怎么称呼" in text
