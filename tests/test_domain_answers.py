"""The domain's answers state the law correctly: every cited article is a 2022 article (or one of the
named laws on the allow-list), and no time limit is stated without its basis."""

import re

import pytest
import yaml

from actions.triage.citations import allow_list
from tests.conftest import ROOT

RESPONSES = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
# Every variation of every response (a response may have several: the crisis reply's three, a long
# answer's short one for the second time), named "utter_x" for the first and "utter_x#2" after.
TEXTS = {(name if number == 0 else f"{name}#{number + 1}"): variation["text"]
         for name, variations in RESPONSES.items() for number, variation in enumerate(variations)}
GUIDANCE = {name: text for name, text in TEXTS.items() if name.startswith("utter_ask_") and name.split("#")[0].endswith(
    ("channels", "online_petition", "procedure", "review", "visit_rules", "progress", "materials", "legal_aid"))}
TIME_LIMIT = re.compile(r"\d+\s*[日天](?:内|之内)|最多延长|不超过\d+")


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_every_cited_article_is_on_the_allow_list(name):
    allow_list().inline(TEXTS[name])  # raises CitationError for a 2005 number or an unknown law


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_every_cited_article_says_what_its_sentence_claims(name):
    """domain.md §12: the sentence that cites an article shares a keyword with what the article
    says (actions/triage/sources.yml)."""
    allow_list().check_claims(TEXTS[name])


def test_the_2005_regulation_is_never_cited():
    assert "《信访条例》" not in (ROOT / "domain.yml").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(GUIDANCE))
def test_time_limits_come_with_their_article(name):
    for sentence in GUIDANCE[name].split("\n"):  # one rule per line or list item
        if TIME_LIMIT.search(sentence):
            assert re.search(r"第[一二三四五六七八九十]+条", sentence), f"{name}: {sentence}"


def test_key_numbers_cite_the_2022_articles():
    assert "60日内办结" in TEXTS["utter_ask_procedure"] and "第三十四条" in TEXTS["utter_ask_procedure"]
    assert "第三十五条" in TEXTS["utter_ask_review"] and "第三十六条" in TEXTS["utter_ask_review"]
    assert "不超过5人（第二十条）" in TEXTS["utter_ask_visit_rules"]
