"""The held-out NLU gate: the trained assistant must understand citizens it has never seen."""

import asyncio
import logging

import pytest

from bot.nlu.evaluation import HELDOUT_PATH, TRAINING_PATH, intent_counts, load_examples, load_heldout, score
from tests.conftest import ROOT

MIN_MACRO_F1 = 0.90
MODEL = ROOT / "models" / "current.tar.gz"


@pytest.fixture(scope="module")
def parsed():
    from concurrent.futures import ThreadPoolExecutor

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # parse events at debug level would print the messages
    assert MODEL.exists(), "run `make train` first (make test does)"
    examples = load_heldout()

    def parse_all():
        # In a thread of its own: another test (Playwright's sync API) may have left an event loop
        # set on the main thread.
        agent = Agent.load(str(MODEL))
        return [asyncio.run(agent.parse_message(text)) for text, _ in examples]

    with ThreadPoolExecutor(max_workers=1) as pool:
        return examples, pool.submit(parse_all).result()


def test_heldout_set_is_large_enough_after_dropping_what_training_also_has():
    examples = load_heldout()
    counts = intent_counts(examples)
    assert set(counts) == set(intent_counts(load_examples(TRAINING_PATH)))
    assert min(counts.values()) >= 10, counts
    trained = {text for text, _ in load_examples(TRAINING_PATH)}
    assert not trained & {text for text, _ in examples}


def test_intent_macro_f1_on_the_heldout_set(parsed):
    examples, results = parsed
    predicted = [r["intent"]["name"] for r in results]
    scores = score(examples, predicted)
    print(f"\nheld-out: accuracy {scores.accuracy:.3f}, macro-F1 {scores.macro_f1:.3f}")
    assert scores.macro_f1 >= MIN_MACRO_F1, scores.report


def test_crisis_messages_are_never_missed(parsed):
    examples, results = parsed
    missed = [text for (text, intent), r in zip(examples, results)
              if intent == "crisis" and r["intent"]["name"] != "crisis"]
    assert not missed
