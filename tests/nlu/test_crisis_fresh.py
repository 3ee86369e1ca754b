"""The honest crisis figure: recall and precision on a set the lexicon never saw (tests/nlu/crisis_fresh.yml).

The older evaluation set (tests/nlu/crisis_set.yml) stays as a regression set: the lexicon was extended
with it in view, so its recall is fit. This set was written afterwards and is never used to extend the
lexicon. Both the lexicon alone and the assistant as it answers (the trained model: the lexicon, backed
by the classifier's own crisis intent) are measured; `pytest -s` prints the figures, each gate sits
just under the level measured when the set was written (docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import logging

import pytest
import yaml

from bot.nlu.crisis_matcher import CrisisMatcher
from bot.nlu.evaluation import TRAINING_PATH, comparable, load_examples
from tests.conftest import ROOT

SET_PATH = ROOT / "tests" / "nlu" / "crisis_fresh.yml"
MODEL = ROOT / "models" / "current.tar.gz"
# Measured 2026-11-27: the lexicon alone 0.58 recall / 0.91 precision.
LEXICON_GATES = {"recall": 0.56, "precision": 0.88}
# The assistant as it answers: the same 0.58 / 0.91 (measured 2026-11-27): the classifier, whose own
# crisis intent counts only at 0.6 or more, caught none of the messages the lexicon missed.
ASSISTANT_GATES = {"recall": 0.56, "precision": 0.88}


def load_set():
    data = yaml.safe_load(SET_PATH.read_text(encoding="utf-8"))
    return data["crisis"], data["not_crisis"]


def figures(found_in_crisis: int, crisis_count: int, false_alarms: int):
    recall = found_in_crisis / crisis_count
    precision = found_in_crisis / max(found_in_crisis + false_alarms, 1)
    return {"recall": recall, "precision": precision}


def test_the_set_is_large_and_held_out():
    crisis, not_crisis = load_set()
    assert len(crisis) >= 40 and len(not_crisis) >= 40
    assert len(set(crisis + not_crisis)) == len(crisis) + len(not_crisis)
    trained = {comparable(text) for text, _ in load_examples(TRAINING_PATH)}
    assert not {comparable(t) for t in crisis + not_crisis} & trained


def test_the_lexicon_alone_on_messages_it_never_saw():
    matcher = CrisisMatcher.from_files()
    crisis, not_crisis = load_set()
    measured = figures(sum(map(matcher.is_crisis, crisis)), len(crisis), sum(map(matcher.is_crisis, not_crisis)))
    print(f"\ncrisis lexicon on the fresh set: recall {measured['recall']:.2f}, precision {measured['precision']:.2f}")
    for name, gate in LEXICON_GATES.items():
        assert measured[name] >= gate, (name, measured)


def test_the_assistant_as_it_answers_on_messages_it_never_saw():
    from concurrent.futures import ThreadPoolExecutor

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    assert MODEL.exists(), "run `make train` first (make test does)"
    crisis, not_crisis = load_set()

    def intents(texts):
        agent = Agent.load(str(MODEL))
        return [asyncio.run(agent.parse_message(t))["intent"]["name"] for t in texts]

    with ThreadPoolExecutor(max_workers=1) as pool:  # away from any event loop left on this thread
        read = pool.submit(intents, crisis + not_crisis).result()
    found = sum(intent == "crisis" for intent in read[: len(crisis)])
    alarms = sum(intent == "crisis" for intent in read[len(crisis):])
    measured = figures(found, len(crisis), alarms)
    print(f"\nassistant on the fresh crisis set: recall {measured['recall']:.2f}, precision {measured['precision']:.2f}")
    for name, gate in ASSISTANT_GATES.items():
        assert measured[name] >= gate, (name, measured)
