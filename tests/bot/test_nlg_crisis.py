"""The crisis reply and its follow-ups as citizens read them (domain.yml, bot/nlg.py): national numbers
first, the bureau's phone alone in its sentence, and variations said in turn."""

from __future__ import annotations

import asyncio
import re

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from actions.bureau import get_config, sentences
from bot.nlg import BureauFactsNLG, times_said
from tests.bureau_files import CONFIGURED, configured, write
from tests.conftest import ROOT

NATIONAL = ("110", "120", "12356")
FOLLOW_UPS = ("utter_crisis_followup", "utter_crisis_followup_matter", "utter_crisis_followup_staff",
              "utter_crisis_goodbye")


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def nlg_for(domain, monkeypatch, tmp_path, data=None) -> BureauFactsNLG:
    if data is not None:
        monkeypatch.setenv("BUREAU_CONFIG", str(write(tmp_path / "bureau.yml", data)))
    if hasattr(get_config, "cache_clear"):
        get_config.cache_clear()
    return BureauFactsNLG(domain=domain)


@pytest.fixture(autouse=True)
def fresh_config():
    yield
    if hasattr(get_config, "cache_clear"):
        get_config.cache_clear()


def crisis_variations(domain):
    return domain.responses["utter_crisis_support"]


def test_the_crisis_reply_leads_with_national_numbers_then_the_bureau_phone(domain, monkeypatch, tmp_path):
    nlg = nlg_for(domain, monkeypatch, tmp_path, configured())
    assert len(crisis_variations(domain)) >= 3
    for variation in crisis_variations(domain):
        text = nlg.render(variation)["text"]
        positions = [text.index(number) for number in NATIONAL]
        assert max(positions) < 80, text  # in the opening lines
        assert max(positions) < text.index(CONFIGURED["phone"]), text
        first_number = re.search(r"\d{3,}", text).group(0)
        assert first_number in NATIONAL, text


def test_the_bureau_phone_is_alone_in_its_sentence_so_it_can_be_left_out(domain):
    for variation in crisis_variations(domain):
        template = variation["text"]
        [phone_sentence] = [s for s in sentences(template) if "{bureau_phone}" in s]
        assert re.findall(r"\{(\w+)\}", phone_sentence) == ["bureau_phone"]
        assert not any(number in phone_sentence for number in NATIONAL)
        assert variation.get("metadata", {}).get("sample_facts") == "omit"


def test_with_a_sample_phone_the_reply_keeps_everything_else(domain, monkeypatch, tmp_path):
    nlg = nlg_for(domain, monkeypatch, tmp_path)  # the shipped file: the phone is a sample
    config = get_config()
    assert "bureau_phone" in config.sample_keys()
    for variation in crisis_variations(domain):
        text = nlg.render(variation)["text"]
        assert all(number in text for number in NATIONAL), text
        assert "{" not in text and config.file_template_values()["bureau_phone"] not in text
        assert "\n\n" not in text and not text.startswith("\n")


def test_the_numbers_come_from_the_hotlines_of_bureau_yml(domain, monkeypatch, tmp_path):
    """The numbers are the bureau's facts like any other: a county with its own psychological
    hotline sets it in bureau.yml, and every crisis reply says it."""
    data = configured()
    data["hotlines"].update({"crisis": "0571-85029595"})
    nlg = nlg_for(domain, monkeypatch, tmp_path, data)
    for variation in crisis_variations(domain):
        text = nlg.render(variation)["text"]
        assert "0571-85029595" in text and "12356" not in text


def generate(nlg, name, tracker) -> str:
    return asyncio.run(nlg.generate(name, tracker, "rest"))["text"]


def tracker_after(domain, crisis_replies: int) -> DialogueStateTracker:
    events = [ActionExecuted("action_listen")]
    for _ in range(crisis_replies):
        events += [UserUttered("不想活了", {"name": "crisis", "confidence": 1.0}),
                   ActionExecuted("utter_crisis_support"),
                   BotUttered("…", metadata={"utter_action": "utter_crisis_support"}),
                   ActionExecuted("action_listen")]
    return DialogueStateTracker.from_events("citizen", events, slots=domain.slots)


def test_variations_are_said_in_turn_and_repeat_only_after_all(domain, monkeypatch, tmp_path):
    nlg = nlg_for(domain, monkeypatch, tmp_path, configured())
    count = len(crisis_variations(domain))
    said = [generate(nlg, "utter_crisis_support", tracker_after(domain, n)) for n in range(count + 1)]
    assert len(set(said[:count])) == count  # no repetition while there are others
    assert said[count] == said[0]
    assert said[1] == generate(nlg, "utter_crisis_support", tracker_after(domain, 1))  # deterministic
    assert times_said(tracker_after(domain, 2), "utter_crisis_support") == 2
    assert times_said(tracker_after(domain, 2), "utter_greet") == 0


def test_follow_ups_are_varied_short_and_show_the_way_to_a_person(domain, monkeypatch, tmp_path):
    nlg = nlg_for(domain, monkeypatch, tmp_path, configured())
    for name in FOLLOW_UPS:
        variations = domain.responses[name]
        texts = [nlg.render(v)["text"] for v in variations]
        assert len(variations) >= 2 and len(set(texts)) == len(texts), name
        for variation, text in zip(variations, texts):
            assert len(text) <= 90, text  # short
            payloads = [b["payload"] for b in variation.get("buttons", [])]
            assert "/request_human" in payloads or "12356" in text, text
    for name in ("utter_crisis_followup", "utter_crisis_followup_matter"):
        assert all("/request_human" in [b["payload"] for b in v["buttons"]] for v in domain.responses[name])
