"""Conversation behaviour that needs the real servers: facts from bureau.yml, crisis, sessions."""

import pytest

from actions.bureau import get_config

pytestmark = pytest.mark.e2e


def texts(replies) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def test_greeting_offers_the_menu_and_answers_carry_the_bureau_s_facts(client):
    citizen = client.new_sender()
    replies = client.say(citizen, "你好")
    assert [b["title"] for b in replies[0]["buttons"]][:3] == ["信访怎么办理", "我的问题该找哪里", "预约律师咨询"]
    replies = client.say(citizen, "信访局地址在哪 电话多少")
    facts = get_config().template_values()  # a value still marked as a sample is never said
    assert facts["bureau_address"] in texts(replies) and facts["bureau_phone"] in texts(replies)
    for sample in get_config().samples.values():
        assert str(sample) not in texts(replies)


def test_crisis_language_inside_a_complaint_gets_the_safety_reply(client):
    citizen = client.new_sender()
    replies = client.say(citizen, "包工头欠了我一年工资，家里揭不开锅了，我真的不想活了")
    hotlines = get_config().hotlines
    assert hotlines.police in texts(replies) and hotlines.crisis in texts(replies)
    assert client.slot(citizen, "staff_alert") == "crisis"


def test_a_new_session_keeps_the_matter_and_forgets_personal_data(client):
    citizen = client.new_sender()
    client.say(citizen, "法院判了对方赔钱，可对方一直不执行")
    client.say(citizen, "我想预约律师")
    client.say(citizen, "下周三上午十点")
    client.say(citizen, "王建国")
    assert client.slot(citizen, "citizen_name") == "王建国"
    client.say(citizen, "/session_start")
    tracker = client.tracker(citizen)
    assert tracker["slots"]["matter_type"] == "court_case"
    assert tracker["slots"]["statutory_channel"] == "judicial_procedure"
    assert tracker["slots"]["citizen_name"] is None
    replies = client.say(citizen, "你好")
    assert replies and replies[0]["buttons"]


def test_two_misunderstood_messages_lead_to_a_person(client):
    """The dialogue's part, whatever the classifier makes of a given string: a first message not
    understood gets a request to rephrase, the second in a row the way to a person. (Sent as the
    fallback intent itself, so that a better classifier cannot make the test pass vacuously.)"""
    citizen = client.new_sender()
    first = client.say(citizen, "/nlu_fallback")
    second = client.say(citizen, "/nlu_fallback")
    staff = get_config().template_values()["bureau_phone"]
    assert "换个说法" in texts(first) and staff not in texts(first), texts(first)
    assert staff in texts(second), texts(second)
