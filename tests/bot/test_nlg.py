import asyncio

from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from actions.bureau import get_config
from bot.nlg import BureauFactsNLG
from tests.conftest import ROOT


def generate(response: str, **values) -> dict:
    domain = Domain.load(str(ROOT / "domain.yml"))
    nlg = BureauFactsNLG(domain=domain)
    tracker = DialogueStateTracker.from_events("someone", [], slots=domain.slots)
    return asyncio.run(nlg.generate(response, tracker, "rest", **values))


def test_facts_from_the_configuration_are_filled_in(tmp_path, monkeypatch):
    from tests.bureau_files import CONFIGURED, configured, write

    monkeypatch.setenv("BUREAU_CONFIG", str(write(tmp_path / "bureau.yml", configured())))
    text = generate("utter_ask_office_info")["text"]
    assert CONFIGURED["address"] in text
    assert CONFIGURED["phone"] in text
    assert "{" not in text


def test_sample_facts_are_never_said():
    config = get_config()
    assert config.samples  # the shipped file
    text = generate("utter_ask_office_info")["text"]
    for value in config.samples.values():
        assert str(value) not in text
    assert config.template_values()["bureau_phone"] in text


def test_every_response_renders_without_placeholders_left():
    """Bureau facts come from the NLG; the other values from the action that speaks the response."""
    import re

    domain = Domain.load(str(ROOT / "domain.yml"))
    facts = get_config().template_values()
    for name, variations in domain.responses.items():
        wanted = set(re.findall(r"\{(\w+)\}", variations[0]["text"])) - set(facts)
        rendered = generate(name, **{key: "值" for key in wanted})
        assert "{" not in rendered["text"], name


def test_buttons_survive_rendering():
    titles = [b["title"] for b in generate("utter_greet")["buttons"]]
    assert "预约律师咨询" in titles
