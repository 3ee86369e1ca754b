"""Crisis language comes before the message guard's limits (bot/guard.py): a message that would be
refused as too long, too fast or unreadable is passed on when it contains crisis language."""

import asyncio

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.guard import TOO_FAST, MessageGuard

COMPLAINT = "包工头欠了我们八个月的工钱，去劳动监察跑了好几趟，每次都说在协调。"
CRISIS = "我实在扛不住了，真的不想活了。"


def send(guard, text, sender="a", metadata=None):
    """(what reached Rasa, what the guard replied itself)."""
    handled, output = [], CollectingOutputChannel()

    async def on_new_message(message):
        handled.append(message)

    async def conversation():
        await guard.wrap(on_new_message)(UserMessage(text, output, sender, metadata=metadata))

    asyncio.run(conversation())
    return handled, [m["text"] for m in output.messages]


def test_an_over_long_message_with_crisis_language_reaches_rasa_as_its_crisis_part():
    guard = MessageGuard(max_chars=100, per_minute=0)
    text = COMPLAINT * 10 + CRISIS + COMPLAINT * 10
    handled, replies = send(guard, text, metadata={"channel": "web"})
    assert replies == []  # no "too long" refusal
    [message] = handled
    assert "不想活了" in message.text and len(message.text) <= 100
    assert message.text.startswith(("包工头", "我实在"))  # whole sentences
    assert message.sender_id == "a" and message.metadata["channel"] == "web"
    assert message.metadata["guard"] == {"crisis_excerpt": True, "original_chars": len(text)}


def test_an_over_long_message_without_crisis_language_is_still_refused():
    guard = MessageGuard(max_chars=100, per_minute=0)
    for text in (COMPLAINT * 10, COMPLAINT * 5 + "我又没说要寻死，就是想要回工钱。" + COMPLAINT * 5,
                 COMPLAINT * 5 + "天天跑，累死了，气死我了。" + COMPLAINT * 5):
        handled, replies = send(guard, text)
        assert handled == [] and "超过了单条100字" in replies[0], text[-40:]


def test_a_very_long_message_is_checked_whatever_its_length():
    guard = MessageGuard(max_chars=1000, per_minute=0)
    text = COMPLAINT * 8000 + "明天我就去县政府门口喝农药。" + COMPLAINT * 10
    handled, replies = send(guard, text)
    assert replies == [] and "喝农药" in handled[0].text and len(handled[0].text) <= 1000


def test_crisis_language_is_answered_over_the_rate_limit():
    guard = MessageGuard(per_minute=1)
    assert send(guard, "你好")[0]
    assert send(guard, "在吗")[1] == [TOO_FAST]
    handled, replies = send(guard, "活着真没意思")
    assert replies == [] and handled[0].text == "活着真没意思"


def test_crisis_language_with_characters_that_are_not_text_is_passed_on_without_them():
    guard = MessageGuard(per_minute=0)
    handled, replies = send(guard, "我不想活了\ud800")
    assert replies == [] and handled[0].text == "我不想活了"
    handled, replies = send(guard, "你好\ud800")
    assert handled == [] and "无法识别" in replies[0]


def test_a_message_within_the_limits_is_passed_on_unchanged():
    guard = MessageGuard(max_chars=100, per_minute=0)
    handled, replies = send(guard, CRISIS)
    assert replies == [] and handled[0].text == CRISIS.strip() and handled[0].metadata is None
