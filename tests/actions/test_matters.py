import asyncio

from rasa_sdk.executor import CollectingDispatcher

from actions.matters import (
    ActionAskMatterStage,
    ActionExplainSeparation,
    ActionTriage,
    UNKNOWN_STAGE,
    ValidateMatterStageForm,
)
from tests.actions.conftest import make_tracker, user_event


def stage_entity(value: str) -> dict:
    return {"entity": "matter_stage", "value": value}


def message(intent: str, text: str, entities=(), ranking=None) -> dict:
    event = user_event(intent, text, ranking)
    event["parse_data"]["entities"] = list(entities)
    return event


def required(tracker):
    form = ValidateMatterStageForm()
    return asyncio.run(form.required_slots(["matter_stage"], CollectingDispatcher(), tracker, {}))


def slots_of(events):
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def test_the_stage_is_asked_only_when_it_decides_and_is_unknown():
    wages = make_tracker([message("matter_wage_arrears", "包工头欠我工资")], {"matter_type": "wage_arrears"})
    assert required(wages) == ["matter_stage"]
    stated = make_tracker(
        [message("matter_wage_arrears", "欠薪的事已经申请仲裁了", [stage_entity("review_pending")])],
        {"matter_type": "wage_arrears", "matter_stage": "review_pending"},
    )
    assert required(stated) == []
    court = make_tracker([message("matter_court_case", "判了不执行")], {"matter_type": "court_case"})
    assert required(court) == []
    answered_vaguely = make_tracker([message("inform", "不清楚")],
                                    {"matter_type": "wage_arrears", "matter_stage": UNKNOWN_STAGE})
    assert required(answered_vaguely) == []


def test_typed_answers_to_the_stage_question():
    form = ValidateMatterStageForm()

    def answer(intent, text, value):
        tracker = make_tracker([message(intent, text)], {"matter_type": "housing_delivery"})
        return form.validate_matter_stage(value, CollectingDispatcher(), tracker, {})["matter_stage"]

    assert answer("deny", "没有", "没有") == "none"
    assert answer("inform", "判了但是不执行", "判了但是不执行") == "not_enforced"
    assert answer("inform", "/inform", "in_court") == "in_court"
    assert answer("inform", "啥意思", "啥意思") == UNKNOWN_STAGE


def test_stage_question_offers_buttons_with_stage_payloads(run_action):
    tracker = make_tracker([message("matter_wage_arrears", "欠薪")], {"matter_type": "wage_arrears"})
    messages, _ = run_action(ActionAskMatterStage(), tracker)
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert '/inform{"matter_stage":"none"}' in payloads
    assert all(p.startswith('/inform{"matter_stage":') for p in payloads)


def test_triage_answers_with_basis_and_sets_the_channel(run_action):
    tracker = make_tracker(
        [message("matter_court_case", "法院判了对方不执行", [stage_entity("not_enforced")])],
        {"matter_type": "court_case"},
    )
    messages, events = run_action(ActionTriage(), tracker)
    slots = slots_of(events)
    assert slots["statutory_channel"] == "judicial_procedure"
    assert slots["triage_stage"] == "not_enforced" and slots["matter_stage"] is None
    assert "依据" in messages[0]["text"] and "{" not in messages[0]["text"]


def test_triage_of_wages_with_no_proceedings(run_action):
    tracker = make_tracker([message("deny", "没有")], {"matter_type": "wage_arrears", "matter_stage": "none"})
    messages, events = run_action(ActionTriage(), tracker)
    assert slots_of(events)["statutory_channel"] in {"law_enforcement", "arbitration"}
    assert any(b["payload"] == "/book_lawyer" for b in messages[0]["buttons"])


def test_a_second_matter_is_mentioned_for_later(run_action):
    ranking = [
        {"name": "matter_wage_arrears", "confidence": 0.55},
        {"name": "matter_social_security", "confidence": 0.35},
        {"name": "greet", "confidence": 0.01},
    ]
    tracker = make_tracker([message("matter_wage_arrears", "欠工资还不给交社保", ranking=ranking)],
                           {"matter_type": "wage_arrears", "matter_stage": "none"})
    messages, _ = run_action(ActionTriage(), tracker)
    assert len(messages) == 2
    assert messages[1]["buttons"][0]["payload"] == "/matter_social_security"


def test_a_runner_up_the_classifier_doubts_is_not_offered_as_a_second_matter(run_action):
    ranking = [
        {"name": "matter_land_expropriation", "confidence": 0.58},
        {"name": "matter_official_misconduct", "confidence": 0.25},
    ]
    tracker = make_tracker([message("matter_land_expropriation", "村里征地的补偿款一直没发到我手上", ranking=ranking)],
                           {"matter_type": "land_expropriation", "matter_stage": "none"})
    messages, _ = run_action(ActionTriage(), tracker)
    assert len(messages) == 1


def test_insisting_on_petitioning_a_court_matter_gets_the_explanation(run_action):
    tracker = make_tracker([message("insist_petition", "我就要信访")],
                           {"matter_type": "court_case", "triage_stage": "not_enforced"})
    messages, _ = run_action(ActionExplainSeparation(), tracker)
    assert "第二十八条" in messages[0]["text"] and messages[0]["buttons"][0]["payload"] == "/book_lawyer"


def test_insisting_without_a_court_matter_gets_the_channels(run_action):
    tracker = make_tracker([message("insist_petition", "我就要信访")], {"matter_type": "suggestion"})
    messages, _ = run_action(ActionExplainSeparation(), tracker)
    assert messages[0]["response"] == "utter_ask_channels"


def test_a_topic_button_keeps_what_the_message_before_it_told():
    """Unsure, the assistant offers topics; the tap must not forget 合同写了找仲裁委."""
    told = message("nlu_fallback", "跟人合伙开饭店，协议上写了纠纷到仲裁委员会解决，他把钱拿走了",
                   [stage_entity("arbitration_clause")])
    tapped = message("matter_civil_dispute", "/matter_civil_dispute")
    tracker = make_tracker([told, tapped], {"matter_type": "civil_dispute"})
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionTriage().run(dispatcher, tracker, {}))
    assert slots_of(events)["statutory_channel"] == "arbitration"
    # A typed message stands on its own: an earlier message's stage is not carried into it.
    typed = message("matter_civil_dispute", "邻居占了我家的地")
    tracker = make_tracker([told, typed], {"matter_type": "civil_dispute"})
    events = asyncio.run(ActionTriage().run(CollectingDispatcher(), tracker, {}))
    assert slots_of(events)["statutory_channel"] == "mediation"


def test_insisting_after_a_petition_answer_is_told_the_review_road():
    said = message("insist_petition", "低保的事我信访了，答复说不符合条件，我不服，下一步找谁",
                   [stage_entity("petition_answered")])
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionExplainSeparation().run(dispatcher, make_tracker([said], {}), {}))
    assert dispatcher.messages[0]["response"] == "utter_ask_review"
    assert slots_of(events) == {"statutory_channel": "petition"}


def test_a_weak_guess_at_another_matter_does_not_replace_the_one_asked_about(run_action):
    def answered(confidence):
        events = [
            {"event": "slot", "name": "matter_type", "value": "land_expropriation"},
            user_event("matter_official_misconduct", "村干部说没钱"),
            {"event": "slot", "name": "matter_type", "value": "official_misconduct"},
        ]
        events[1]["parse_data"]["intent"]["confidence"] = confidence
        tracker = make_tracker(events, {"matter_type": "official_misconduct", "requested_slot": "matter_stage",
                                        "matter_stage": "村干部说没钱"})
        _, result = run_action(ValidateMatterStageForm(), tracker)
        return [e["value"] for e in result if e["name"] == "matter_type"]

    assert answered(0.85) == ["land_expropriation"]
    assert answered(0.97) == []  # surely another matter: it is taken
