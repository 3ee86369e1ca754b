"""Consistency of the triage data: rules.yml, sources.yml, data/nlu/stages.yml, the contract
and the bureau's configuration."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from actions.bureau import get_config
from actions.triage.citations import allow_list
from actions.triage.engine import (
    CHANNELS,
    MATTER_TYPES,
    MODIFIERS,
    RENDER_FIELDS,
    RULES_PATH,
    STAGES,
    STAGES_NLU_PATH,
    TEXT_FIELDS,
    get_lexicon,
    get_rules,
    placeholders,
)

# The contract lives beside the repository (../shared/docs/contract.md from the project's root).
from tests.conftest import ROOT

CONTRACT = ROOT.parent / "shared" / "docs" / "contract.md"


def contract_text() -> str:
    """The contract; in CI its absence is a failure, on a developer's machine without it a skip."""
    if not CONTRACT.exists():
        if os.environ.get("CI"):
            pytest.fail(f"the contract is missing at {CONTRACT} (../shared/docs/contract.md)")
        pytest.skip(f"no contract at {CONTRACT}")
    return CONTRACT.read_text(encoding="utf-8")
RULES = get_rules()
ALL = RULES.all_decisions()


def _ids(decision):
    return f"{decision.matter_type}-{decision.stage}-{'+'.join(decision.modifiers) or 'plain'}"


def _all_rule_texts():
    """(place, text) for every text of the rules file, resolved or not."""
    for decision in ALL:
        for name in TEXT_FIELDS:
            if getattr(decision, name) is not None:
                yield f"{_ids(decision)}.{name}", getattr(decision, name)
    for key, text in RULES.texts.items():
        yield f"texts.{key}", text
    yield "stage_question.text", RULES.question_text
    for matter in RULES.matters.values():
        yield f"{matter.name}.label", matter.label


# --- the contract -----------------------------------------------------------------------------

def test_engine_constants_match_the_contract():
    text = contract_text()
    matters = set(re.findall(r"^\| `([a-z_]+)` \|", text.split("## Slots")[0].split(
        "Matters (the citizen")[1], flags=re.M))
    channels = set(re.findall(r"^\| `([a-z_]+)` \|", text.split("## Statutory channels")[1]
                              .split("##")[0], flags=re.M))
    assert matters == set(MATTER_TYPES)
    assert channels == set(CHANNELS)


def test_every_matter_and_stage_resolves():
    assert set(RULES.matters) == set(MATTER_TYPES)
    assert len(ALL) == len(MATTER_TYPES) * (len(STAGES) + 1) * (len(MODIFIERS) + 1)
    for decision in ALL:
        assert decision.channel in CHANNELS, _ids(decision)
        assert decision.where and decision.why and decision.bring, _ids(decision)
        assert decision.basis, _ids(decision)


def test_every_channel_and_alternative_is_a_contract_value():
    for decision in ALL:
        assert decision.channel in CHANNELS, _ids(decision)
        assert set(decision.alternatives) <= set(CHANNELS), _ids(decision)
        assert decision.channel not in decision.alternatives, _ids(decision)
        assert len(set(decision.alternatives)) == len(decision.alternatives), _ids(decision)


def test_every_channel_value_is_reachable():
    reached = {c for d in ALL for c in d.channels}
    assert reached == set(CHANNELS)


# --- citations --------------------------------------------------------------------------------

def test_every_basis_is_in_the_allow_list():
    allowed = allow_list()
    for decision in ALL:
        for citation in decision.basis:
            allowed.parse(citation)          # raises on anything not allowed
    for basis in RULES.insist_basis.values():
        for citation in basis:
            allowed.parse(citation)


def test_every_article_named_in_a_text_is_allowed_and_in_the_basis():
    allowed = allow_list()
    for decision in ALL:
        basis = {allowed.parse(c) for c in decision.basis}
        for name in TEXT_FIELDS:
            for citation in allowed.inline(getattr(decision, name) or ""):
                assert citation in basis, f"{_ids(decision)}.{name}: {citation}"


def test_no_2005_regulation_anywhere():
    raw = RULES_PATH.read_text(encoding="utf-8")
    body = "\n".join(line for line in raw.splitlines() if not line.lstrip().startswith("#"))
    assert "《信访条例》" not in body
    sources = (RULES_PATH.parent / "sources.yml").read_text(encoding="utf-8")
    assert "信访条例:" not in sources.split("forbidden:")[0]


def test_petition_time_limits_cite_the_2022_articles():
    """60 days = Art. 34, 复查 = Art. 35, 复核 = Art. 36 (the 2005 text had 33/34/35)."""
    for decision in ALL:
        text = " ".join(filter(None, (getattr(decision, n) for n in TEXT_FIELDS)))
        basis = set(decision.basis)
        if re.search("[申请]请复查", text):
            assert "《信访工作条例》第三十五条" in basis, _ids(decision)
        if re.search("申请复核|复核意见", text):
            assert "《信访工作条例》第三十六条" in basis, _ids(decision)
        if "60日内办结" in text:
            assert "《信访工作条例》第三十四条" in basis, _ids(decision)
        for clock in decision.clocks:
            if "行政复议" in clock.what and clock.limit == "60日":
                assert clock.basis == ("《行政复议法》第二十条",), _ids(decision)
            if "行政诉讼" in clock.what and clock.limit == "6个月":
                assert clock.basis == ("《行政诉讼法》第四十六条",), _ids(decision)
            if "复核" in clock.what and "公安" not in clock.what:
                assert clock.basis == ("《信访工作条例》第三十六条",), _ids(decision)
            elif "复查" in clock.what:
                assert clock.basis == ("《信访工作条例》第三十五条",), _ids(decision)


def test_no_clock_only_where_no_statutory_clock_runs():
    """Reports, suggestions, utilities, domestic violence, a party appeal and divorce have no
    running limitation the answer could state; every road through a court, an arbitration or a
    review names its clock (domain.md §11)."""
    for decision in ALL:
        if not decision.clocks:
            assert (decision.channel in {"discipline_inspection", "petition", "law_enforcement",
                                         "party_appeal"}
                    or "divorce" in decision.modifiers), _ids(decision)
        if decision.channel in {"judicial_procedure", "arbitration", "administrative_review"}:
            assert decision.clocks, _ids(decision)


def test_every_clock_has_a_number_and_a_start():
    for decision in ALL:
        for clock in decision.clocks:
            assert re.fullmatch(r"\d+(日|个月|年)", clock.limit), _ids(decision)
            assert clock.start.endswith(("起", "后")), (_ids(decision), clock.start)


# --- the bureau's facts -----------------------------------------------------------------------

PHONE_PATTERNS = [
    re.compile(r"(?<!\d)1\d{4}(?!\d)"),           # 12345, 12348, 12309 ...
    re.compile(r"(?<!\d)1[1-2][0-9](?!\d)"),       # 110, 120, 119, 122
    re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"),       # mobile numbers
    re.compile(r"\d{3,4}-\d{7,8}"),                # landlines
    re.compile(r"https?://|www\.", re.I),          # web addresses
]
ADDRESS_PATTERN = re.compile(r"\d+号|[路街巷]\d|\d+楼|\d+层|门牌")


def test_no_rule_text_hard_codes_a_number_or_address():
    facts = get_config().template_values()
    literal = [v for k, v in facts.items()
               if k in {"bureau_address", "bureau_phone", "bureau_mail_address", "online_url",
                        "bureau_directions"} and v]
    for place, text in _all_rule_texts():
        for pattern in PHONE_PATTERNS:
            assert not pattern.search(text), f"{place}: {pattern.pattern} in {text}"
        assert not ADDRESS_PATTERN.search(text), f"{place}: address-like text in {text}"
        for value in literal:
            assert value not in text, f"{place}: hard-coded {value!r}"


def test_every_placeholder_exists_in_template_values():
    known = set(get_config().template_values())
    for decision in ALL:
        for name in TEXT_FIELDS:
            for key in placeholders(getattr(decision, name)):
                assert key in known, f"{_ids(decision)}.{name}: {{{key}}}"
    for key, text in RULES.texts.items():
        for name in placeholders(text):
            assert name in known | RENDER_FIELDS, f"texts.{key}: {{{name}}}"
    for name in placeholders(RULES.question_text):
        assert name in known


def test_every_decision_renders_with_the_configuration():
    facts = get_config().template_values()
    for decision in ALL:
        text = RULES.render(decision, facts)
        assert "{" not in text and "}" not in text, _ids(decision)
        insist = RULES.render_insist(decision, facts)
        assert "{" not in insist, _ids(decision)


# --- stages.yml -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def nlu():
    with open(STAGES_NLU_PATH, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _examples(block):
    return [line.strip()[2:].strip() for line in block.splitlines() if line.strip()]


def test_stages_file_is_rasa_nlu_yaml(nlu):
    assert str(nlu["version"]) == "3.1"
    kinds = [("lookup" in item, "synonym" in item) for item in nlu["nlu"]]
    assert all(lookup != synonym for lookup, synonym in kinds)
    for item in nlu["nlu"]:
        assert all(line.strip().startswith("- ") for line in item["examples"].splitlines()
                   if line.strip())


def test_lookup_table_is_large_and_unique(nlu):
    lookups = [i for i in nlu["nlu"] if "lookup" in i]
    assert [i["lookup"] for i in lookups] == ["matter_stage"]
    phrases = _examples(lookups[0]["examples"])
    assert len(phrases) >= 120
    assert len(phrases) == len(set(phrases))
    for phrase in phrases:
        assert 2 <= len(phrase) <= 12, phrase
        assert phrase == phrase.strip() and " " not in phrase, phrase


def test_every_synonym_value_is_a_known_stage_or_modifier(nlu):
    values = [str(i["synonym"]) for i in nlu["nlu"] if "synonym" in i]
    assert set(values) == set(STAGES) | set(MODIFIERS)
    assert len(values) == len(set(values))      # one group per value


def test_every_lookup_phrase_is_in_exactly_one_synonym_group(nlu):
    lookup = set(_examples(next(i for i in nlu["nlu"] if "lookup" in i)["examples"]))
    seen = {}
    for item in nlu["nlu"]:
        if "synonym" not in item:
            continue
        for phrase in _examples(item["examples"]):
            assert phrase not in seen, f"{phrase} in {seen.get(phrase)} and {item['synonym']}"
            seen[phrase] = item["synonym"]
    assert set(seen) == lookup


def test_lookup_is_sorted_longest_first():
    """Rasa's alternation takes the first listed phrase at a position: longest must come first."""
    lengths = [len(p) for p in get_lexicon().phrases]
    assert lengths == sorted(lengths, reverse=True)


def test_each_phrase_alone_maps_to_its_own_group():
    lexicon = get_lexicon()
    for phrase in lexicon.phrases:
        assert lexicon.values(phrase) == [lexicon.synonyms[phrase]], phrase


def test_stage_titles_are_understood_when_typed():
    lexicon = get_lexicon()
    from actions.triage.engine import stage_from_answer
    for stage, title in RULES.stage_titles.items():
        assert stage_from_answer(title) == stage, title


def test_negations_are_their_own_phrases():
    lexicon = get_lexicon()
    for negated, stage in [("还没起诉", "none"), ("没有起诉", "none"), ("还没申请仲裁", "none"),
                           ("想申请复议", "none"), ("还没判", "in_court"),
                           ("判决还没下来", "in_court"), ("法院不立案", "in_court"),
                           ("仲裁还没结果", "arbitration_pending")]:
        assert lexicon.values(f"我{negated}，怎么办") == [stage], negated


def test_every_stage_has_phrases():
    lexicon = get_lexicon()
    groups = set(lexicon.synonyms.values())
    assert groups == set(STAGES) | set(MODIFIERS)
    for value in groups:
        assert sum(1 for v in lexicon.synonyms.values() if v == value) >= 10, value


def test_lexicon_reads_what_rasa_loads():
    """Rasa loads the same lookup phrases and synonyms from stages.yml as the lexicon (its extra
    `negation` and `followed_by` sections are ignored by Rasa's reader and read by the lexicon).
    That the Rasa-side extractor then finds the same values: tests/bot/nlu/test_phrases.py."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(STAGES_NLU_PATH))
    lexicon = get_lexicon()
    assert [t["name"] for t in data.lookup_tables] == ["matter_stage"]
    assert list(data.lookup_tables[0]["elements"]) == list(lexicon.phrases)
    for phrase in lexicon.phrases:
        assert data.entity_synonyms[phrase.lower()] == lexicon.synonyms[phrase]


def test_the_engine_does_not_import_rasa():
    for path in Path(RULES_PATH).parent.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import|from)\s+rasa", source, re.M), path.name
