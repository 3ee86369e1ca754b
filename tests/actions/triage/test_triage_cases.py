"""The triage evaluation set (tests/triage/cases.yml) through the stage lexicon and the rules.

The expected matter type is given, so this measures the stage recognition (data/nlu/stages.yml,
applied the way Rasa's RegexEntityExtractor applies it), the stage question and the rules, and
renders the answer the way ActionTriage does (engine.render with the bureau's facts) to check that
it names the remedy and, where a statutory clock runs, the deadline (tests/triage/checks.py). The
end-to-end suite runs the same cases through the trained assistant over HTTP.
"""

from __future__ import annotations

from collections import Counter

import pytest

from actions.bureau import get_config
from actions.triage.engine import (
    CHANNELS,
    MATTER_TYPES,
    decide,
    get_lexicon,
    needs_stage_question,
    render,
    stage_from_answer,
    stage_from_text,
)
from tests.triage.checks import failures, load_cases, malformed, report

THRESHOLD = 0.985  # measured 0.995 (channel) and 0.991 (219/221, channel + remedy + deadline); docs/benchmarks.md
CASES = load_cases()


def run_case(case):
    """-> (decision, stage, asked)"""
    stage, modifiers = stage_from_text(case["text"])
    asked = needs_stage_question(case["matter_type"], stage)
    if asked:
        stage = stage_from_answer(case.get("stage_answer", ""))
    return decide(case["matter_type"], stage, modifiers), stage, asked


def answer(decision) -> str:
    """The citizen-facing triage answer, as ActionTriage renders it."""
    return render(decision, get_config().template_values())


def test_the_set_is_big_and_spread():
    assert len(CASES) >= 170
    per_type = Counter(c["matter_type"] for c in CASES)
    assert set(per_type) == set(MATTER_TYPES)
    assert min(per_type.values()) >= 4
    assert sum(1 for c in CASES if "stage_answer" in c) >= 15
    assert sum(1 for c in CASES if "deadline" in c) >= 60
    texts = [c["text"] for c in CASES]
    assert len(texts) == len(set(texts))


def test_cases_are_well_formed():
    problems = [f"  {c.get('text')}: {p}" for c in CASES for p in malformed(c, MATTER_TYPES, CHANNELS)]
    assert not problems, "\n".join(problems)


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
    misses = []
    for case in CASES:
        decision, stage, asked = run_case(case)
        ok = decision.channel in case["channels"]
        results.append(ok)
        confusion[(case["channels"][0], decision.channel if not ok else case["channels"][0])] += 1
        if not ok:
            misses.append(f"  {case['text']} -> {(decision.channel, stage, asked)} expected {case['channels']}")
    accuracy = sum(results) / len(results)
    print(f"\ntriage channel accuracy {accuracy:.1%} on {len(CASES)} cases")
    for (want, got), n in sorted(confusion.items()):
        if want != got:
            print(f"  confusion: expected {want}, got {got}: {n}")
    assert accuracy >= THRESHOLD, f"accuracy {accuracy:.1%}\n" + "\n".join(misses)


def test_answer_names_remedy_and_deadline():
    """Channel right AND remedy named AND (where there is one) the deadline with its number."""
    results = []
    for case in CASES:
        decision, _, _ = run_case(case)
        results.append((case, decision.channel, failures(case, decision.channel, answer(decision))))
    summary = report(results, "triage (rules, rendered answer)")
    print("\n" + summary)
    passed = sum(1 for _, _, kinds in results if not kinds)
    assert passed / len(results) >= THRESHOLD, summary


def test_no_case_is_a_training_example_or_a_close_paraphrase_of_one():
    """The evaluation cases are held out from the NLU training data too: none may equal a training
    example once punctuation, spaces, emoji and width are evened out, nor be a close paraphrase of
    an example of its matter's intent."""
    from bot.nlu.evaluation import close_paraphrases, near_duplicates

    assert near_duplicates([(case["text"], None) for case in CASES]) == []
    assert close_paraphrases([(case["text"], f"matter_{case['matter_type']}") for case in CASES]) == []
