"""The Rasa adapter of the follow-up answers: the road the question names, else the road given;
the petition procedure's own questions read in the light of the road given."""

from actions.road_questions import ActionAnswerGuidanceInContext, ActionAnswerRoadQuestion
from tests.actions.conftest import make_tracker, user_event

AFTER_WAGE_TRIAGE = {"matter_type": "labor_dispute", "statutory_channel": "arbitration", "triage_stage": "none"}


def said(messages):
    return "\n".join(m.get("text") or m.get("response") or "" for m in messages)


def test_a_road_named_in_the_question_is_answered(run_action):
    messages, events = run_action(ActionAnswerRoadQuestion(),
                                  make_tracker([user_event("ask_arbitration", "仲裁要钱吗 大概多久")], AFTER_WAGE_TRIAGE))
    assert "不收费" in said(messages) and "45日" in said(messages) and events == []  # the road given stays


def test_a_conversation_without_a_road_is_about_the_one_asked_from_then_on(run_action):
    _, events = run_action(ActionAnswerRoadQuestion(),
                           make_tracker([user_event("ask_arbitration", "我申请劳动仲裁了，还在等结果")]))
    assert {e["name"]: e["value"] for e in events} == {"statutory_channel": "arbitration"}


def test_a_question_naming_no_road_is_about_the_road_given(run_action):
    messages, _ = run_action(ActionAnswerRoadQuestion(),
                             make_tracker([user_event("ask_road_detail", "要钱吗")], AFTER_WAGE_TRIAGE))
    assert "劳动仲裁不收费" in said(messages)


def test_without_a_road_the_citizen_is_asked_what_happened(run_action):
    messages, _ = run_action(ActionAnswerRoadQuestion(), make_tracker([user_event("ask_road_detail", "要钱吗")]))
    assert "遇到的情况" in said(messages)


def test_after_triage_a_question_on_duration_is_about_the_road_not_the_petition(run_action):
    messages, _ = run_action(ActionAnswerGuidanceInContext(),
                             make_tracker([user_event("ask_procedure", "大概多久能有结果")], AFTER_WAGE_TRIAGE))
    assert "45日" in said(messages) and "60日内办结" not in said(messages)


def test_a_petition_question_stays_a_petition_question(run_action):
    messages, _ = run_action(ActionAnswerGuidanceInContext(),
                             make_tracker([user_event("ask_procedure", "信访一般多久办完")], AFTER_WAGE_TRIAGE))
    assert messages == [dict(messages[0], response="utter_ask_procedure")]
    messages, _ = run_action(ActionAnswerGuidanceInContext(),
                             make_tracker([user_event("ask_materials", "要带什么材料")]))
    assert messages[0]["response"] == "utter_ask_materials"


def test_the_same_answer_is_not_given_twice(run_action):
    first, _ = run_action(ActionAnswerRoadQuestion(),
                          make_tracker([user_event("ask_arbitration", "仲裁要钱吗")], AFTER_WAGE_TRIAGE))
    answered = {"event": "bot", "text": first[0]["text"]}
    again, _ = run_action(ActionAnswerRoadQuestion(), make_tracker(
        [user_event("ask_arbitration", "仲裁要钱吗"), answered, user_event("ask_arbitration", "仲裁收费吗")],
        AFTER_WAGE_TRIAGE))
    assert again[0]["text"] != first[0]["text"] and again[0]["text"].startswith("这一点刚才说过了")


def test_a_question_that_tells_the_citizen_s_own_matter_gets_that_matter_triaged(run_action):
    event = user_event("ask_arbitration", "房子一直不交，我们几户已经申请仲裁了，仲裁委到现在还没开庭",
                       ranking=[{"name": "ask_arbitration", "confidence": 0.5},
                                {"name": "matter_housing_delivery", "confidence": 0.21}])
    event["parse_data"]["entities"] = [{"entity": "matter_stage", "value": "arbitration_pending"}]
    messages, events = run_action(ActionAnswerRoadQuestion(), make_tracker([event]))
    slots = {e["name"]: e["value"] for e in events}
    assert slots["matter_type"] == "housing_delivery" and slots["statutory_channel"] == "arbitration"
    assert said(messages).startswith("关于")  # the triage answer for the matter


def test_a_follow_up_on_the_same_matter_is_answered_not_triaged_again(run_action):
    event = user_event("ask_lawsuit", "申请执行去哪个法院",
                       ranking=[{"name": "ask_lawsuit", "confidence": 0.6},
                                {"name": "matter_court_case", "confidence": 0.3}])
    event["parse_data"]["entities"] = [{"entity": "matter_stage", "value": "not_enforced"}]
    messages, events = run_action(ActionAnswerRoadQuestion(), make_tracker(
        [event], {"matter_type": "court_case", "statutory_channel": "judicial_procedure",
                  "triage_stage": "not_enforced"}))
    assert events == [] and "法院" in said(messages) and not said(messages).startswith("关于")
