"""A citizen books, checks, moves and cancels a lawyer consultation over HTTP, with Chinese
relative dates and a few mistakes on the way. The clock is fixed at Thursday 2026-11-26 10:00."""

import re

import pytest

pytestmark = pytest.mark.e2e


def texts(replies) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def look_up(client, citizen, replies, code, phone="13800001234"):
    """Answers the lookup form: the code if it is asked for (it is remembered within a
    conversation), then the phone number."""
    if "预约码" in texts(replies) and "手机" not in texts(replies):
        client.say(citizen, code)
    return client.say(citizen, phone)


def buttons(replies):
    return [b for r in replies for b in r.get("buttons", [])]


def test_book_check_reschedule_cancel(client, assistant):
    citizen = client.new_sender()

    replies = client.say(citizen, "我想预约律师咨询")
    assert any("12月2日（星期三）" == b["title"] for b in buttons(replies)), texts(replies)

    replies = client.say(citizen, "周六行吗")
    assert "没有值班律师" in texts(replies)

    replies = client.say(citizen, "那就下周三上午十点")
    assert client.slot(citizen, "booking_date") == "2026-12-02"
    assert client.slot(citizen, "booking_time") == "10:00"
    assert "称呼" in texts(replies)

    replies = client.say(citizen, "不告诉你")
    assert "姓名或称呼" in texts(replies)
    client.say(citizen, "王建国")

    replies = client.say(citizen, "12345")
    assert "号码好像不对" in texts(replies)
    client.say(citizen, "138 0000 1234")
    assert client.slot(citizen, "citizen_phone") == "13800001234"

    replies = client.say(citizen, "安置房一直不交付，想问问怎么维权")
    summary = texts(replies)
    assert "12月2日（星期三）上午10:00" in summary and "王建国" in summary

    replies = client.say(citizen, "/affirm")
    code = client.slot(citizen, "booking_code")
    assert code and re.fullmatch(r"[A-HJ-NP-Z2-9]{6}", code)
    assert code in texts(replies) and "预约成功" in texts(replies)
    assert client.slot(citizen, "citizen_phone") is None  # personal values are not kept

    replies = client.say(citizen, "帮我查一下我的预约")
    replies = look_up(client, citizen, replies, code)
    assert "12月2日（星期三）上午10:00" in texts(replies) and "已预约" in texts(replies)

    replies = client.say(citizen, "我想改一下预约时间")
    look_up(client, citizen, replies, code)
    replies = client.say(citizen, "下周五下午两点半")
    assert "12月4日（星期五）下午2:30" in texts(replies)
    replies = client.say(citizen, "/affirm")
    assert "已改好" in texts(replies) and code in texts(replies)

    replies = client.say(citizen, "取消预约")
    replies = look_up(client, citizen, replies, code)
    assert "已为您取消" in texts(replies) and "12月4日（星期五）下午2:30" in texts(replies)


def test_a_stranger_cannot_see_a_booking_without_its_phone(client):
    owner, stranger = client.new_sender(), client.new_sender()
    client.say(owner, "预约律师")
    client.say(owner, "下周五上午九点半")
    client.say(owner, "李秀英")
    client.say(owner, "13900002222")
    client.say(owner, "征地补偿的事")
    client.say(owner, "/affirm")
    code = client.slot(owner, "booking_code")
    assert code
    client.say(stranger, "查一下预约")
    client.say(stranger, code)
    replies = client.say(stranger, "13700003333")
    assert "没有找到这个预约" in texts(replies) and "李秀英" not in texts(replies)


def test_past_dates_are_refused(client):
    citizen = client.new_sender()
    client.say(citizen, "预约律师")
    replies = client.say(citizen, "2026-10-02")
    assert "已经过去" in texts(replies)
    replies = client.say(citizen, "12月4号上午九点")
    assert client.slot(citizen, "booking_time") == "09:00"


def test_read_in_context_a_time_question_after_booking_and_a_reason_when_moving(client):
    """After booking, "上午还是下午来着" asks about that booking; inside the reschedule form a reason
    for not coming ("那天我要去县医院看病") is heard and the new date asked for, not taken for a new matter."""
    citizen = client.new_sender()
    for said in ("预约律师", "下周三上午十点", "赵桂兰", "13600005555", "宅基地纠纷"):
        client.say(citizen, said)
    replies = client.say(citizen, "/affirm")
    code = re.search(r"预约码：([A-Z0-9]{6})", texts(replies)).group(1)

    replies = client.say(citizen, "上午还是下午来着")
    assert "上午10:00" in texts(replies) and code in texts(replies), texts(replies)
    assert {"改约时间", "取消预约"} <= {b["title"] for b in buttons(replies)}

    client.say(citizen, "我要改个时间")
    replies = client.say(citizen, "13600005555")
    assert "哪一天" in texts(replies), texts(replies)
    replies = client.say(citizen, "那天我要去县医院看病")
    assert "来不了" in texts(replies) and "哪一天" in texts(replies), texts(replies)
    assert "该走的路" not in texts(replies)  # no triage of a medical dispute
    tracker = client.tracker(citizen)
    assert tracker["active_loop"].get("name") == "reschedule_form"
    assert tracker["slots"]["requested_slot"] == "booking_date"
