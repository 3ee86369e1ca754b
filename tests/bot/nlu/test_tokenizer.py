import pytest
import yaml
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.normalisation import load_entries
from bot.nlu.tokenizer import PetitionTokenizer, fold_width
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def tokenizer() -> PetitionTokenizer:
    """The tokenizer exactly as config.yml configures it."""
    step = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"][0]
    assert step["name"] == "bot.nlu.tokenizer.PetitionTokenizer"
    config = {**PetitionTokenizer.get_default_config(), **step}
    config["dictionary_path"] = str(ROOT / step["dictionary_path"])
    PetitionTokenizer._load_custom_dictionary(config["dictionary_path"])
    normalisation = load_entries(ROOT / step["normalisation_path"]) if step.get("normalisation_path") else None
    return PetitionTokenizer(config, None, None, normalisation)


def tokens(tokenizer: PetitionTokenizer, text: str) -> list:
    message = Message({"text": text})
    tokenizer.process([message])
    return [token.text for token in message.get("text_tokens")]


def test_no_whitespace_tokens(tokenizer):
    result = tokens(tokenizer, "我 要  反映   问题 \t 谢谢")
    assert result and all(t.strip() for t in result)


def test_offsets_point_into_the_text(tokenizer):
    text = "我 想 问 复查 怎么 申请"  # nothing here for the normalisation to change
    message = Message({"text": text})
    tokenizer.process([message])
    for token in message.get("text_tokens"):
        assert text[token.start : token.end] == token.text


def test_full_width_digits_and_letters_are_folded():
    assert fold_width("１２月４号　ＡＢｃ") == "12月4号 ABc"
    assert len(fold_width("１２３")) == 3


@pytest.mark.parametrize(
    "term", ["信访事项", "复查", "复核", "网上信访", "律师接访", "一户一表", "临时安置费", "复工交房"]
)
def test_petition_terms_stay_whole(tokenizer, term):
    assert term in tokens(tokenizer, f"我想问一下{term}的事情")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("推迟到下下周五行吗", "下下周五"),
        ("下周三上午十点可以吗", "上午十点"),
        ("电话138 1234 5678", "138 1234 5678"),
        ("改到１２月４号", "12月4号"),
        ("我的预约码是K7M3QX", "K7M3QX"),
    ],
)
def test_values_are_single_tokens(tokenizer, text, expected):
    assert expected in tokens(tokenizer, text)


def test_normalised_tokens_keep_the_offsets_of_what_was_typed(tokenizer):
    text = "俺家拆签的钱咋还不给。。。😭 zf不管"
    message = Message({"text": text})
    tokenizer.process([message])
    assert message.get("text") == text  # the citizen's own words stay in the message
    seen = {token.text: text[token.start : token.end] for token in message.get("text_tokens")}
    assert seen["我家"] == "俺家" and seen["拆迁"] == "拆签" and seen["政府"] == "zf"
    assert seen["怎么"] == "咋" and seen["。"] == "。。。"
    assert "😭" not in "".join(seen)


def test_an_entity_typed_in_dialect_still_aligns_with_tokens(tokenizer):
    text = "俺姓刘 电话13800001234"
    message = Message({"text": text})
    tokenizer.process([message])
    starts = {token.start for token in message.get("text_tokens")}
    ends = {token.end for token in message.get("text_tokens")}
    phone = text.index("138")
    assert phone in starts and phone + 11 in ends and text.index("刘") in starts


def test_a_message_of_emoji_only_still_has_tokens(tokenizer):
    # The classifier fails on a message without features; 😭😭 is what was typed, so it is read.
    assert tokens(tokenizer, "😭😭") and tokens(tokenizer, "🙈")
