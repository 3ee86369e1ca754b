from actions.fallback import TOPIC_TITLES, ActionFallbackTopics, ambiguous_pair, likeliest_topics
from tests.actions.conftest import make_tracker, user_event

RANKING = [
    {"name": "nlu_fallback", "confidence": 1.0},
    {"name": "ask_review", "confidence": 0.31},
    {"name": "greet", "confidence": 0.2},
    {"name": "ask_procedure", "confidence": 0.25},
    {"name": "matter_wage_arrears", "confidence": 0.12},
    {"name": "ask_progress", "confidence": 0.05},
]


def test_likeliest_topics_skip_fallback_and_small_talk_and_keep_order():
    assert likeliest_topics(RANKING) == ["ask_review", "ask_procedure", "matter_wage_arrears"]


def test_every_topic_title_names_a_domain_intent():
    import yaml

    from tests.conftest import ROOT

    intents = set(yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["intents"])
    assert set(TOPIC_TITLES) <= intents


def test_first_fallback_offers_topics_as_buttons(run_action):
    tracker = make_tracker([user_event("greet", "你好"), user_event("nlu_fallback", "那个事咋整", RANKING)])
    messages, events = run_action(ActionFallbackTopics(), tracker)
    assert len(messages) == 1 and messages[0]["response"] == "utter_ask_rephrase"
    buttons = messages[0]["buttons"]
    assert [b["payload"] for b in buttons] == ["/ask_review", "/ask_procedure", "/matter_wage_arrears"]
    assert buttons[0]["title"] == TOPIC_TITLES["ask_review"]
    assert events == [{"event": "rewind", "timestamp": None}]


def test_second_fallback_in_a_row_offers_a_person(run_action):
    tracker = make_tracker(
        [user_event("nlu_fallback", "嗯那个", RANKING), user_event("nlu_fallback", "就是那个事", RANKING)]
    )
    messages, events = run_action(ActionFallbackTopics(), tracker)
    assert [m["response"] for m in messages] == ["utter_fallback_human", "utter_contact_staff"]
    assert events == []


AMBIGUOUS = [
    {"name": "nlu_fallback", "confidence": 0.3},
    {"name": "check_booking", "confidence": 0.41},
    {"name": "book_lawyer", "confidence": 0.38},
    {"name": "ask_lawyer_service", "confidence": 0.11},
]


def test_two_close_intents_are_offered_as_exactly_two_buttons(run_action):
    tracker = make_tracker([user_event("nlu_fallback", "我约的律师那个", AMBIGUOUS)])
    messages, events = run_action(ActionFallbackTopics(), tracker)
    assert [m["response"] for m in messages] == ["utter_ask_which_of_two"]
    assert messages[0]["buttons"] == [
        {"title": TOPIC_TITLES["check_booking"], "payload": "/check_booking"},
        {"title": TOPIC_TITLES["book_lawyer"], "payload": "/book_lawyer"},
    ]
    assert events == [{"event": "rewind", "timestamp": None}]


def test_low_confidence_is_not_mistaken_for_ambiguity():
    low = [{"name": "nlu_fallback", "confidence": 0.3}, {"name": "ask_review", "confidence": 0.29},
           {"name": "ask_procedure", "confidence": 0.27}]
    assert ambiguous_pair(low) is None
    assert ambiguous_pair(AMBIGUOUS) == ["check_booking", "book_lawyer"]


def test_an_ambiguity_with_small_talk_falls_back_to_the_topics():
    ranking = [{"name": "nlu_fallback", "confidence": 0.3}, {"name": "thank", "confidence": 0.45},
               {"name": "goodbye", "confidence": 0.44}]
    assert ambiguous_pair(ranking) is None
