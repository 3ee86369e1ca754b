"""The normalisation lexicon and the rules applied with it (bot/nlu/normalisation.py)."""

import pytest

from bot.nlu.normalisation import Normaliser, load_entries
from tests.conftest import ROOT

LEXICON = ROOT / "data" / "normalisation" / "lexicon.yml"


@pytest.fixture(scope="module")
def entries():
    return load_entries(LEXICON)


@pytest.fixture(scope="module")
def normaliser(entries):
    return Normaliser.from_entries(entries)


def test_every_entry_changes_something_and_says_why(entries):
    assert len(entries) >= 40
    for entry in entries:
        assert entry["from"] != entry["to"], entry
        assert entry["kind"] in {"dialect", "internet", "slip", "emoji"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("俺家的房子咋整", "我家的房子怎么办"),
        ("啥子时候能办好嘛", "什么时候能办好嘛"),
        ("冇人管", "没有人管"),
        ("肿么办！！！", "怎么办！"),
        ("上纺要带神马材料？？？", "上访要带什么材料？"),
        ("ZF不管 kfs跑了", "政府不管 开发商跑了"),
        ("谢谢🙏🙏", "谢谢拜托"),
        ("工资没发😭😭😭", "工资没发"),
        ("好👍", "好好的"),
    ],
)
def test_typed_forms_become_standard_words(normaliser, text, expected):
    assert normaliser.normalise(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "预约码是LBZF7K",  # a booking code is not an abbreviation
        "www.zfcg.gov.cn",
        "砍伐树木",  # 伐 (Wu question particle) is left out on purpose
        "买了块手表",
        "花了88元",
        "1388888",
        "我的预约 K7PM3Q",
    ],
)
def test_words_with_other_meanings_are_left_alone(normaliser, text):
    assert normaliser.normalise(text).text == text


def test_every_character_maps_back_to_what_was_typed(normaliser):
    text = "俺们村zf征地  咋个赔？？😡"
    result = normaliser.normalise(text)
    assert len(result.spans) == len(result.text)
    start, end = result.original_span(0, 2)
    assert text[start:end] == "俺们"
    position = result.text.index("政府")
    start, end = result.original_span(position, position + 2)
    assert text[start:end] == "zf"
    # Spans never go backwards and stay inside the text.
    assert all(0 <= a < b <= len(text) for a, b in result.spans)
    assert [a for a, _ in result.spans] == sorted(a for a, _ in result.spans)


def test_a_lexicon_with_a_source_twice_or_an_unknown_kind_does_not_load(tmp_path):
    twice = tmp_path / "twice.yml"
    twice.write_text("entries:\n  - {from: 俺, to: 我, kind: dialect}\n  - {from: 俺, to: 咱, kind: dialect}\n",
                     encoding="utf-8")
    with pytest.raises(ValueError, match="twice"):
        load_entries(twice)
    unknown = tmp_path / "unknown.yml"
    unknown.write_text("entries:\n  - {from: 俺, to: 我, kind: guess}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown"):
        load_entries(unknown)
