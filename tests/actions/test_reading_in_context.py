"""Messages read in the context of the conversation: a reason inside the reschedule form, a question
about the booking the conversation holds."""

import datetime as dt

from actions.booking_form import (
    ActionInformOutsideForm,
    ValidateRescheduleForm,
    get_service,
    gives_a_reason_to_move,
)
from tests.actions.conftest import make_tracker

WEDNESDAY = dt.date(2026, 12, 2)
DOMAIN = {"forms": {"reschedule_form": {"required_slots": ["booking_date", "booking_time", "booking_confirmed"]}},
          "slots": {}}


def message(intent, text, ranking, entities=()):
    parse = {"intent": {"name": intent, "confidence": ranking[0][1]}, "text": text,
             "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking], "entities": list(entities)}
    return {"event": "user", "text": text, "parse_data": parse}


HOSPITAL = message("matter_medical", "那天我得去医院复查", [("matter_medical", 0.46), ("reschedule_booking", 0.31),
                                                          ("ask_office_info", 0.05)])


def test_a_reason_is_told_apart_from_a_new_topic_and_from_an_answer():
    assert gives_a_reason_to_move(HOSPITAL["parse_data"])
    sure_medical = message("matter_medical", "医院把我妈的病耽误了", [("matter_medical", 0.92), ("medical_x", 0.03),
                                                                 ("reschedule_booking", 0.02)])
    assert not gives_a_reason_to_move(sure_medical["parse_data"])
    with_a_date = message("reschedule_booking", "周三要去医院 改到周五", [("reschedule_booking", 0.8)],
                          entities=[{"entity": "date", "value": "周五"}])
    assert not gives_a_reason_to_move(with_a_date["parse_data"])


def book():
    return get_service().book(date=WEDNESDAY, time="10:00", name="李阿姨", phone="13900000000",
                              matter_summary="欠薪", idempotency_key="context-test")


def test_inside_the_reschedule_form_a_reason_is_heard_and_the_date_asked_again(run_action):
    booking = book()
    tracker = make_tracker([HOSPITAL], {"requested_slot": "booking_date", "booking_code": booking.code,
                                        "citizen_phone": "13900000000"})
    tracker.active_loop = {"name": "reschedule_form"}
    messages, events = run_action(ValidateRescheduleForm(), tracker, DOMAIN)
    assert [m["response"] for m in messages] == ["utter_reschedule_reason_heard"]
    assert {"event": "slot", "timestamp": None, "name": "booking_date", "value": None} in events


def test_a_question_about_the_booking_this_conversation_made_shows_it(run_action):
    booking = book()
    asked = message("inform", "上午还是下午来着", [("inform", 0.7)], entities=[{"entity": "time", "value": "上午"}])
    messages, _ = run_action(ActionInformOutsideForm(), make_tracker([asked], {"booking_code": booking.code}))
    assert [m["response"] for m in messages] == ["utter_booking_in_conversation"]
    assert "上午10:00" in messages[0]["slot_label"] and messages[0]["booking_code"] == booking.code


def test_without_a_booking_in_the_conversation_a_date_asks_whether_to_book(run_action):
    said = message("inform", "下周三", [("inform", 0.8)], entities=[{"entity": "date", "value": "下周三"}])
    messages, _ = run_action(ActionInformOutsideForm(), make_tracker([said], {}))
    assert [m["response"] for m in messages] == ["utter_inform_without_booking"]
    messages, _ = run_action(ActionInformOutsideForm(), make_tracker([said], {"booking_code": "ZZZZZZ"}))
    assert [m["response"] for m in messages] == ["utter_inform_without_booking"]


def test_a_short_answer_naming_a_day_is_the_date_whatever_the_classifier_guessed():
    from actions.booking_form import date_answer_in

    now = dt.datetime(2026, 11, 26, 10, 0)
    office = {"text": "周六行吗", "intent": {"name": "ask_office_info"}}
    assert date_answer_in(office, now) == "周六行吗"
    # Not when it is a longer question, danger, a request for a person, or no day at all.
    assert date_answer_in({"text": "周六信访局开不开门啊，我想去问问复查的事", "intent": {"name": "ask_office_info"}}, now) is None
    assert date_answer_in({"text": "明天我就去跳楼", "intent": {"name": "crisis"}}, now) is None
    assert date_answer_in({"text": "明天转人工", "intent": {"name": "request_human"}}, now) is None
    assert date_answer_in({"text": "开门吗", "intent": {"name": "ask_office_info"}}, now) is None
    assert date_answer_in({"text": "/ask_office_info", "intent": {"name": "ask_office_info"}}, now) is None


def test_the_booking_form_takes_a_day_from_a_message_read_as_another_topic(run_action):
    from actions.booking_form import ValidateLawyerBookingForm

    asked = message("ask_office_info", "下周三行吗", [("ask_office_info", 0.6), ("inform", 0.2)])
    tracker = make_tracker([asked], {"requested_slot": "booking_date"})
    tracker.active_loop = {"name": "lawyer_booking_form"}
    domain = {"forms": {"lawyer_booking_form": {"required_slots": ["booking_date", "booking_time"]}}, "slots": {}}
    _, events = run_action(ValidateLawyerBookingForm(), tracker, domain)
    assert {"event": "slot", "timestamp": None, "name": "booking_date", "value": "2026-12-02"} in events
