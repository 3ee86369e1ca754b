"""The triage evaluation set (tests/triage/cases.yml) through the stage lexicon and the rules.

The expected matter type is given, so this measures the stage recognition (data/nlu/stages.yml,
applied the way Rasa's RegexEntityExtractor applies it), the stage question and the rules. The
end-to-end suite runs the same cases through the trained assistant over HTTP.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from actions.triage.engine import (
    CHANNELS,
    MATTER_TYPES,
    decide,
    get_lexicon,
    needs_stage_question,
    stage_from_answer,
    stage_from_text,
)

CASES_PATH = Path(__file__).resolve().parents[2] / "triage" / "cases.yml"
THRESHOLD = 0.95


def _cases():
    with open(CASES_PATH, encoding="utf-8") as handle:
        return yaml.safe_load(handle)["cases"]


CASES = _cases()


def run_case(case):
    """-> (channel, stage, asked)"""
    stage, modifiers = stage_from_text(case["text"])
    asked = needs_stage_question(case["matter_type"], stage)
    if asked:
        stage = stage_from_answer(case.get("stage_answer", ""))
    return decide(case["matter_type"], stage, modifiers).channel, stage, asked


def test_the_set_is_big_and_spread():
    assert len(CASES) >= 70
    per_type = Counter(c["matter_type"] for c in CASES)
    assert set(per_type) == set(MATTER_TYPES)
    assert min(per_type.values()) >= 4
    assert sum(1 for c in CASES if "stage_answer" in c) >= 15
    texts = [c["text"] for c in CASES]
    assert len(texts) == len(set(texts))


def test_cases_are_well_formed():
    for case in CASES:
        assert set(case) <= {"text", "matter_type", "channels", "stage_answer"}, case
        assert case["matter_type"] in MATTER_TYPES, case
        assert case["channels"] and set(case["channels"]) <= set(CHANNELS), case


def test_cases_are_not_bare_lookup_phrases():
    phrases = set(get_lexicon().phrases)
    assert not [c["text"] for c in CASES if c["text"] in phrases]


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:16] for c in CASES])
def test_stage_answer_is_given_exactly_when_the_assistant_asks(case):
    stage, _ = stage_from_text(case["text"])
    assert needs_stage_question(case["matter_type"], stage) == ("stage_answer" in case)


def test_channel_accuracy():
    results = []
    confusion = Counter()
    for case in CASES:
        channel, stage, asked = run_case(case)
        ok = channel in case["channels"]
        results.append(ok)
        confusion[(case["channels"][0], channel if not ok else case["channels"][0])] += 1
    accuracy = sum(results) / len(results)
    misses = [(c["text"], run_case(c), c["channels"]) for c, ok in zip(CASES, results) if not ok]
    report = "\n".join(f"  {t} -> {got} expected {want}" for t, got, want in misses)
    print(f"\ntriage accuracy {accuracy:.1%} on {len(CASES)} cases")
    for (want, got), n in sorted(confusion.items()):
        if want != got:
            print(f"  confusion: expected {want}, got {got}: {n}")
    assert accuracy >= THRESHOLD, f"accuracy {accuracy:.1%}\n{report}"
