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


LONG_ANSWERS = ("utter_ask_channels", "utter_ask_online_petition", "utter_ask_procedure", "utter_ask_review",
                "utter_ask_visit_rules", "utter_ask_progress", "utter_ask_materials",
                "utter_ask_lawyer_service", "utter_ask_legal_aid")


def said_in_turn(response: str, times: int) -> list:
    """What the conversation hears the 1st, 2nd … time it gets ``response``."""
    from rasa.shared.core.events import BotUttered

    domain = Domain.load(str(ROOT / "domain.yml"))
    nlg = BureauFactsNLG(domain=domain)
    events, texts = [], []
    for _ in range(times):
        tracker = DialogueStateTracker.from_events("someone", events, slots=domain.slots)
        said = asyncio.run(nlg.generate(response, tracker, "rest"))
        texts.append(said["text"])
        events.append(BotUttered(said["text"], metadata={"utter_action": response}))
    return texts


def test_a_long_answer_is_said_once_then_briefly():
    for response in LONG_ANSWERS:
        first, second, third = said_in_turn(response, 3)
        assert first != second == third, response
        assert len(second) < len(first) / 2, response


def test_the_forbidden_conduct_is_not_shown_again():
    first, again = said_in_turn("utter_ask_visit_rules", 2)
    assert "第二十六条" in first and "第二十六条" not in again and "聚集" not in again


def test_the_brief_answer_keeps_its_buttons_and_no_internal_metadata():
    domain = Domain.load(str(ROOT / "domain.yml"))
    again = [v for v in domain.responses["utter_ask_lawyer_service"] if (v.get("metadata") or {}).get("said_before")]
    assert again and again[0]["buttons"]
    rendered = BureauFactsNLG(domain=domain).render(again[0])
    assert "said_before" not in str(rendered.get("metadata", {}))
