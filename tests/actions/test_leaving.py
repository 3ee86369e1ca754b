"""Forms one can leave (issue 12): 不约了 / 不查了 / 算了 / 人工 end any form at any question, 忘了 the
code gets help, and the action that follows a finished form then does nothing."""

import pytest

from actions.booking_form import (
    ActionBookingDone,
    ActionCancelBooking,
    ActionCheckBooking,
    ActionRescheduleDone,
    ValidateBookingLookupForm,
    ValidateLawyerBookingForm,
    ValidateRescheduleForm,
)
from actions.leaving import FORM_LEFT, why_leaving
from actions.matters import ActionTriage, ValidateMatterStageForm
from tests.actions.conftest import make_tracker, user_event


def asked(slot, intent, text, **slots):
    return make_tracker([user_event(intent, text)], {"requested_slot": slot, **slots})


@pytest.mark.parametrize("slot, intent, text, why", [
    ("booking_code", "deny", "不查了", "stop"),
    ("booking_code", "deny", "忘了 没记", "forgot"),
    ("booking_code", "check_booking", "没有预约码", "forgot"),
    ("booking_code", "request_human", "人工客服！！！", "human"),
    ("booking_date", "cancel_booking", "算了不约了…", "stop"),
    ("booking_date", "deny", "不改了", "stop"),
    ("matter_stage", "deny", "算了", "stop"),
    ("citizen_phone", "goodbye", "拜拜", "goodbye"),
    ("citizen_phone", "goodbye", "12345", None),        # digits are an answer, however classified
    ("citizen_name", "inform", "俺姓刘 刘老汉", None),
    ("matter_stage", "deny", "没有", None),             # "no proceedings yet": the stage answer
    ("booking_confirmed", "affirm", "对", None),
    ("booking_date", "inform", "下周三上午", None),
    ("matter_summary", "inform", "我说的这件事算了一下差不多有三年了，开发商一直拖着不给办房产证", None),
])
def test_what_leaves_a_form(slot, intent, text, why):
    assert why_leaving(asked(slot, intent, text)) == why


def test_the_message_that_starts_a_form_does_not_leave_it():
    assert why_leaving(make_tracker([user_event("cancel_booking", "不想约了 帮我取消")], {})) is None


@pytest.mark.parametrize("form, slot, response", [
    (ValidateLawyerBookingForm(), "citizen_phone", "utter_booking_stopped"),
    (ValidateBookingLookupForm(), "citizen_phone", "utter_lookup_stopped"),
    (ValidateRescheduleForm(), "booking_date", "utter_reschedule_stopped"),
    (ValidateMatterStageForm(), "matter_stage", "utter_matter_stopped"),
])
def test_every_form_lets_go(run_action, form, slot, response):
    messages, events = run_action(form, asked(slot, "deny", "算了"))
    assert [m["response"] for m in messages] == [response]
    assert {"event": "slot", "name": "requested_slot", "value": None, "timestamp": None} in events
    assert any(e["name"] == FORM_LEFT and e["value"] == form.form_name() for e in events)


def test_a_forgotten_code_gets_help_not_the_question_again(run_action):
    messages, _ = run_action(ValidateBookingLookupForm(), asked("booking_code", "deny", "忘了 没记"))
    assert [m["response"] for m in messages] == ["utter_booking_code_forgotten"]


def test_a_person_asked_for_gets_the_way_to_one(run_action):
    messages, _ = run_action(ValidateMatterStageForm(), asked("matter_stage", "request_human", "我要找人工"))
    assert [m["response"] for m in messages] == ["utter_contact_staff"]


@pytest.mark.parametrize("action", [ActionBookingDone(), ActionCheckBooking(), ActionCancelBooking(),
                                    ActionRescheduleDone(), ActionTriage()])
def test_after_a_form_was_left_the_next_action_says_nothing_and_clears_the_mark(run_action, action):
    tracker = make_tracker([user_event("deny", "算了")],
                           {FORM_LEFT: "booking_lookup_form", "matter_type": "wage_arrears",
                            "booking_code": "K7M3QX", "citizen_phone": "13800001234"})
    messages, events = run_action(action, tracker)
    assert messages == []
    assert any(e["name"] == FORM_LEFT and e["value"] is None for e in events)


def test_a_surname_alone_is_asked_about_once_then_accepted(run_action):
    from rasa_sdk.executor import CollectingDispatcher

    form, dispatcher = ValidateLawyerBookingForm(), CollectingDispatcher()
    tracker = asked("citizen_name", "inform", "我姓刘")
    assert form.validate_citizen_name("刘", dispatcher, tracker, {}) == {"citizen_name": None}
    assert dispatcher.messages[0]["response"] == "utter_booking_refused_surname_only"
    asked_once = make_tracker(
        [user_event("inform", "我姓刘"),
         {"event": "bot", "text": "……", "metadata": {"utter_action": "utter_booking_refused_surname_only"}},
         user_event("inform", "我姓刘")],
        {"requested_slot": "citizen_name"})
    assert form.validate_citizen_name("刘", CollectingDispatcher(), asked_once, {}) == {"citizen_name": "刘"}
