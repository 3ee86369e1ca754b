"""Crisis language with the real servers: before the length limit, the reply's numbers and its
variations, negations and figures of speech, and the follow-up after a crisis reply."""

import pytest

pytestmark = pytest.mark.e2e

NATIONAL = ("110", "120", "12356")
COMPLAINT = "我在城东工地干了十个月的钢筋工，包工头到现在一分钱没结，劳动监察跑了三趟都说在协调。"


def texts(replies) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def is_crisis_reply(replies) -> bool:
    return all(number in texts(replies) for number in NATIONAL)


def test_an_over_long_message_with_crisis_language_gets_the_crisis_reply(client):
    citizen = client.new_sender()
    message = COMPLAINT * 30 + "要是过年前还拿不到钱，我就从那个楼顶上跳下去。" + COMPLAINT * 5
    assert len(message) > 1000  # MESSAGE_MAX_CHARS
    replies = client.say(citizen, message)
    assert is_crisis_reply(replies) and "超过了单条" not in texts(replies)
    assert client.slot(citizen, "staff_alert") == "crisis"


def test_a_second_crisis_reply_is_not_the_first_again(client):
    citizen = client.new_sender()
    first = texts(client.say(citizen, "工资要不回来，我真的不想活了"))
    second = texts(client.say(citizen, "活着真没意思"))
    assert "12356" in first and "12356" in second and first != second


@pytest.mark.parametrize("message", ["我又没说要寻死，就是想问问工资的事怎么办", "出了事你们负责", "我再想想吧",
                                     "天天加班累死了，加班费一分没有"])
def test_negations_and_figures_of_speech_get_no_crisis_reply(client, message):
    citizen = client.new_sender()
    assert "12356" not in texts(client.say(citizen, message))
    assert client.slot(citizen, "staff_alert") is None


def test_the_message_after_a_crisis_reply_gets_a_follow_up_then_its_answer(client):
    citizen = client.new_sender()
    client.say(citizen, "安置费停了一年多，房租交不起被赶出来了，我现在就想去死")
    assert client.slot(citizen, "crisis_followup") is True
    replies = client.say(citizen, "过渡费停了半年，安置房也一直不给分")
    assert "/request_human" in [b["payload"] for b in replies[0].get("buttons", [])]
    assert len(replies) >= 2  # the follow-up, then the answer about the matter
    assert client.slot(citizen, "crisis_followup") is None
    assert client.slot(citizen, "staff_alert") == "crisis"


def test_a_short_answer_after_a_crisis_reply_is_not_left_without_a_person(client):
    citizen = client.new_sender()
    client.say(citizen, "不想活了")
    replies = client.say(citizen, "嗯")
    assert "/request_human" in [b["payload"] for r in replies for b in r.get("buttons", [])]
    replies = client.say(citizen, "你好")
    assert "12356" not in texts(replies)  # the follow-up was for one message; the conversation goes on
