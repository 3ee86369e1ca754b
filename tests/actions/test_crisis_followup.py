"""After a crisis reply: the staff flag marks the next message for the follow-up, the follow-up action
stays with the person and reads the next message in the light of the crisis message, and every intent
has its follow-up rule (data/rules/crisis.yml)."""

from __future__ import annotations

import yaml
from rasa_sdk import Tracker

from actions.crisis import ActionCrisisFollowup, crisis_message_matter, matter_in_context
from actions.fallback import TOPIC_TITLES
from actions.staff import ActionFlagForStaff
from tests.actions.conftest import make_tracker, user_event
from tests.conftest import ROOT

RESETTLEMENT_CRISIS = user_event("crisis", "安置费停了一年多，我现在就想去死", [
    {"name": "crisis", "confidence": 1.0},
    {"name": "matter_resettlement", "confidence": 0.55},
    {"name": "matter_civil_dispute", "confidence": 0.2},
])
RENT = user_event("matter_civil_dispute", "房租都交不起了，房东天天催", [
    {"name": "matter_civil_dispute", "confidence": 0.45},
    {"name": "matter_resettlement", "confidence": 0.3},
    {"name": "matter_housing_delivery", "confidence": 0.1},
])
# Rules for these intents are elsewhere: another crisis message gets the crisis reply again, and
# end_quietly must end the conversation without another word.
NOT_FOLLOWED_UP = {"crisis", "end_quietly"}


def slots_set(events):
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def test_the_staff_flag_marks_the_next_message_for_the_follow_up(run_action):
    _, events = run_action(ActionFlagForStaff(), make_tracker([user_event("crisis", "我不想活了")]))
    assert slots_set(events) == {"staff_alert": "crisis", "crisis_followup": True}


def test_a_crisis_message_during_the_stage_question_is_not_taken_as_the_answer(run_action):
    events = [user_event("matter_wage_arrears", "工资拖欠"), user_event("crisis", "不想活了")]
    tracker = Tracker("citizen-1", {"matter_stage": "不想活了"}, events[-1]["parse_data"], events, False, None,
                      {"name": "matter_stage_form"}, "action_listen")
    _, events = run_action(ActionFlagForStaff(), tracker)
    assert slots_set(events)["matter_stage"] is None


def test_a_short_answer_gets_the_follow_up_and_a_way_back_to_the_matter(run_action):
    tracker = make_tracker([RESETTLEMENT_CRISIS, user_event("thank", "嗯 谢谢")])
    messages, events = run_action(ActionCrisisFollowup(), tracker)
    [message] = messages
    assert message["response"] == "utter_crisis_followup"
    assert message["buttons"] == [{"title": f"接着说：{TOPIC_TITLES['matter_resettlement']}",
                                   "payload": "/matter_resettlement"}]
    assert slots_set(events) == {"crisis_followup": None}


def test_without_a_matter_in_the_crisis_message_no_matter_button(run_action):
    tracker = make_tracker([user_event("crisis", "我不想活了", [{"name": "crisis", "confidence": 1.0},
                                                             {"name": "greet", "confidence": 0.3}]),
                            user_event("nlu_fallback", "嗯")])
    messages, _ = run_action(ActionCrisisFollowup(), tracker)
    assert messages[0]["response"] == "utter_crisis_followup" and messages[0]["buttons"] == []


def test_a_matter_right_after_is_read_in_the_light_of_the_crisis_message(run_action):
    tracker = make_tracker([RESETTLEMENT_CRISIS, RENT])
    messages, events = run_action(ActionCrisisFollowup(), tracker)
    assert [m["response"] for m in messages] == ["utter_crisis_followup_matter"]
    assert slots_set(events) == {"crisis_followup": None, "matter_type": "resettlement"}


def test_a_clearly_different_matter_stays_what_it_is():
    school = user_event("matter_school_enrollment", "孩子上学的事学校不收", [
        {"name": "matter_school_enrollment", "confidence": 0.8},
        {"name": "matter_resettlement", "confidence": 0.15},
    ])
    assert matter_in_context(school["parse_data"], "matter_resettlement") is None
    unrelated = user_event("matter_consumer", "买的手机坏了", [
        {"name": "matter_consumer", "confidence": 0.5},
        {"name": "matter_utilities", "confidence": 0.2},
    ])
    assert matter_in_context(unrelated["parse_data"], "matter_resettlement") is None
    assert matter_in_context(RENT["parse_data"], None) is None


def test_the_crisis_message_is_the_last_one_with_crisis():
    older = user_event("crisis", "工资要不回来不想活了", [{"name": "crisis", "confidence": 1.0},
                                                      {"name": "matter_wage_arrears", "confidence": 0.6}])
    tracker = make_tracker([older, user_event("thank", "谢谢"), RESETTLEMENT_CRISIS, RENT])
    assert crisis_message_matter(tracker) == "matter_resettlement"
    assert crisis_message_matter(make_tracker([RENT])) is None


def test_a_question_goodbye_or_request_for_a_person_gets_its_own_word(run_action):
    for intent, response in [("ask_procedure", "utter_crisis_followup_matter"),
                             ("book_lawyer", "utter_crisis_followup_matter"),
                             ("goodbye", "utter_crisis_goodbye"),
                             ("request_human", "utter_crisis_followup_staff")]:
        messages, events = run_action(ActionCrisisFollowup(),
                                      make_tracker([RESETTLEMENT_CRISIS, user_event(intent, "……")]))
        assert [m["response"] for m in messages] == [response], intent
        assert slots_set(events) == {"crisis_followup": None}, intent


def test_every_intent_has_its_follow_up_rule():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    rules = yaml.safe_load((ROOT / "data" / "rules" / "crisis.yml").read_text(encoding="utf-8"))["rules"]
    followed_up = set()
    for rule in rules:
        if {"slot_was_set": [{"crisis_followup": True}]} not in rule.get("condition", []):
            continue
        steps = rule["steps"]
        assert {"action": "action_crisis_followup"} in steps, rule["rule"]
        first = steps[0]
        followed_up |= {step["intent"] for step in first["or"]} if "or" in first else {first["intent"]}
    expected = set(domain["intents"]) - NOT_FOLLOWED_UP | {"nlu_fallback"}
    assert followed_up == expected, f"add to data/rules/crisis.yml: {sorted(expected - followed_up)}"
