"""No reply reaches a citizen with an unfilled ``{placeholder}`` or a fact still marked as a sample.

Every variation of every response in domain.yml is rendered by the Rasa server's response generator
(bot/nlg.py) with realistic values for what the actions pass, once with the shipped bureau.yml (whose
sample values must never show) and once with a fully configured bureau file (whose values must).
The booking form's own refusal paths are rendered in tests/actions/test_booking_replies.py.
"""

from __future__ import annotations

import asyncio
import re

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from actions.bureau import (
    NEUTRAL_PHRASES,
    UnfilledPlaceholder,
    fill_template,
    fill_template_leniently,
    load_config,
    omit_sentences_with,
)
from bot.nlg import BureauFactsNLG
from tests.bureau_files import CONFIGURED, configured, write
from tests.conftest import ROOT

DOMAIN = Domain.load(str(ROOT / "domain.yml"))
RESPONSES = DOMAIN.responses
VARIATIONS = [(name, index, variation) for name, variations in sorted(RESPONSES.items())
              for index, variation in enumerate(variations)]

# Realistic values for the placeholders the actions pass (everything that is not a bureau fact).
ACTION_VALUES = {
    "date_label": "12月2日（星期三）",
    "time_label": "上午10:00",
    "slot_label": "12月2日（星期三）上午10:00",
    "booking_code": "K7M3QX",
    "status_label": "已预约",
    "closure_reason": "单位集中学习",
    "slot_minutes": 30,
    "max_active": 2,
    "surname": "刘",
}

SHIPPED_SAMPLES = load_config().samples
PLACEHOLDER = re.compile(r"\{(\w+)\}")


@pytest.fixture(scope="module", params=["shipped", "configured"])
def bureau(request, tmp_path_factory):
    """(name, generator, configuration) for the shipped bureau.yml and a fully configured one."""
    monkeypatch = pytest.MonkeyPatch()
    if request.param == "configured":
        path = write(tmp_path_factory.mktemp("bureau") / "bureau.yml", configured())
        monkeypatch.setenv("BUREAU_CONFIG", str(path))
    else:
        monkeypatch.delenv("BUREAU_CONFIG", raising=False)
    try:
        yield request.param, BureauFactsNLG(domain=DOMAIN), load_config()
    finally:
        monkeypatch.undo()


def rendered_texts(response: dict) -> list:
    texts = [response.get("text") or ""]
    texts += [button.get("title", "") for button in response.get("buttons") or []]
    return texts


def test_the_shipped_file_has_samples_and_the_test_file_none(tmp_path):
    assert {"bureau.phone", "bureau.address"} <= set(SHIPPED_SAMPLES)
    assert not load_config(write(tmp_path / "bureau.yml", configured())).samples


def test_every_placeholder_has_a_realistic_value_here():
    facts = set(load_config().template_values())
    used = {name for _, _, v in VARIATIONS for name in PLACEHOLDER.findall(v.get("text") or "")}
    unknown = used - facts - set(ACTION_VALUES)
    assert not unknown, f"add a realistic value for {sorted(unknown)} to ACTION_VALUES"


def test_every_response_renders_filled_and_without_sample_values(bureau):
    """The count of renderings is the number of response variations × 2 bureau files."""
    kind, nlg, config = bureau
    problems = []
    for name, index, variation in VARIATIONS:
        out = nlg.render(variation, **ACTION_VALUES)
        for text in rendered_texts(out):
            where = f"{name}[{index}] with the {kind} bureau file"
            if "{" in text or "}" in text:
                problems.append(f"{where}: unfilled: {text!r}")
            for path, value in SHIPPED_SAMPLES.items():
                if str(value) in text:
                    problems.append(f"{where}: says the sample {path} = {value!r}")
        if kind == "configured":
            text = out.get("text") or ""
            for key in PLACEHOLDER.findall(variation.get("text") or ""):
                if key in NEUTRAL_PHRASES and key in load_config().sample_keys():
                    # a fact that is a sample in the shipped file: the county's own value is said
                    assert config.template_values()[key] in text, (name, key)
                    assert NEUTRAL_PHRASES[key] not in text, (name, key)
    assert not problems, "\n".join(problems)
    assert len(VARIATIONS) >= 60


def test_configured_facts_reach_the_replies(bureau):
    kind, nlg, _ = bureau
    text = nlg.render(RESPONSES["utter_ask_office_info"][0])["text"]
    if kind == "configured":
        for key in ("address", "phone", "reception_hours", "directions", "weekend"):
            assert CONFIGURED[key] in text
    else:
        assert NEUTRAL_PHRASES["bureau_phone"] in text and NEUTRAL_PHRASES["bureau_address"] in text


def test_generate_fills_like_render(bureau):
    """What Rasa calls: a random variation, the tracker's slots, the action's values."""
    _, nlg, _ = bureau
    tracker = DialogueStateTracker.from_events("someone", [], slots=DOMAIN.slots)
    out = asyncio.run(nlg.generate("utter_booking_success", tracker, "rest", **ACTION_VALUES))
    assert "K7M3QX" in out["text"] and "{" not in out["text"]


# --- the guarantees behind it --------------------------------------------------------------------

def test_a_missing_value_raises_in_tests():
    with pytest.raises(UnfilledPlaceholder) as raised:
        fill_template("{slot_label}快开始了，已经过了预约截止时间。", {"date_label": "12月2日"})
    assert raised.value.missing == ["slot_label"]
    with pytest.raises(UnfilledPlaceholder):
        fill_template("预约码：{booking_code}", {"booking_code": None})  # a slot that is not set


def test_the_generator_raises_on_a_missing_value_when_strict(bureau):
    _, nlg, _ = bureau
    tracker = DialogueStateTracker.from_events("someone", [], slots=DOMAIN.slots)
    with pytest.raises(UnfilledPlaceholder):
        asyncio.run(nlg.generate("utter_booking_refused_too_late", tracker, "rest"))


def test_in_production_a_missing_value_leaves_its_sentence_out(bureau, monkeypatch, caplog):
    _, nlg, _ = bureau
    monkeypatch.setenv("STRICT_TEMPLATES", "0")
    tracker = DialogueStateTracker.from_events("someone", [], slots=DOMAIN.slots)
    out = asyncio.run(nlg.generate("utter_booking_refused_not_a_slot", tracker, "rest"))
    assert "{" not in out["text"] and "}" not in out["text"]
    assert "no value" in caplog.text or "without a value" in caplog.text


def test_lenient_filling_keeps_the_other_sentences():
    text, missing = fill_template_leniently("请选别的时间。{slot_label}已经约满了。电话{bureau_phone}。",
                                            {"bureau_phone": "0571-88886666"})
    assert text == "请选别的时间。电话0571-88886666。" and missing == {"slot_label"}


def test_a_response_can_leave_out_the_sentences_of_sample_facts(bureau):
    kind, nlg, config = bureau
    variation = {
        "text": "请先照顾好自己。可以拨打心理援助热线{hotline_crisis}。也可以拨打{bureau_phone}直接和工作人员说。",
        "metadata": {"sample_facts": "omit"},
    }
    out = nlg.render(variation)
    assert "12356" in out["text"] and "{" not in out["text"] and "metadata" not in out
    if kind == "shipped":
        assert out["text"] == "请先照顾好自己。可以拨打心理援助热线12356。"
    else:
        assert CONFIGURED["phone"] in out["text"]
    assert omit_sentences_with("甲。乙{x}。\n丙{y}\n丁", {"x", "y"}) == "甲。丁"
