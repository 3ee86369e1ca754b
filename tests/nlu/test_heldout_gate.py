"""The held-out NLU gates: the trained assistant must understand citizens it has never seen.

Two sets, both written by people who never saw data/: the first of everyday messages of every kind,
the second only in the styles that are hardest to read (slips, dialect, full-width, emoji, very short,
very long). Each gate sits just under the figure measured when it was set (docs/benchmarks.md).
"""

import asyncio
import logging

import pytest

from bot.nlu.evaluation import (
    HELDOUT_PATH,
    STYLES_HELDOUT_PATH,
    TRAINING_PATH,
    close_paraphrases,
    intent_counts,
    load_examples,
    load_heldout,
    near_duplicates,
    score,
)
from tests.conftest import ROOT

MODEL = ROOT / "models" / "current.tar.gz"
FALLBACK = "nlu_fallback"

# set name: (path, smallest number of scored messages per intent, macro-F1 gate as answered)
SETS = {
    "first": (HELDOUT_PATH, 12, 0.91),  # measured 0.919 over 48 intents (docs/benchmarks.md)
    "styles": (STYLES_HELDOUT_PATH, 9, 0.93),  # measured 0.938
}


@pytest.fixture(scope="module")
def parsed():
    from concurrent.futures import ThreadPoolExecutor

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # parse events at debug level would print the messages
    assert MODEL.exists(), "run `make train` first (make test does)"
    sets = {name: load_heldout(path) for name, (path, _, _) in SETS.items()}

    def parse_all():
        # In a thread of its own: another test (Playwright's sync API) may have left an event loop
        # set on the main thread.
        agent = Agent.load(str(MODEL))
        return {
            name: (examples, [asyncio.run(agent.parse_message(text)) for text, _ in examples])
            for name, examples in sets.items()
        }

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(parse_all).result()


@pytest.mark.parametrize("name", SETS)
def test_every_intent_is_held_out_often_enough(name):
    path, smallest, _ = SETS[name]
    counts = intent_counts(load_heldout(path))
    assert set(counts) == set(intent_counts(load_examples(TRAINING_PATH)))
    assert min(counts.values()) >= smallest, counts


@pytest.mark.parametrize("name", SETS)
def test_no_message_is_a_training_example_or_a_close_paraphrase_of_one(name):
    """Read from the raw files, where every message is scored: a held-out message that is a training
    example (word for word, or in other punctuation, spaces, emoji or width) or a close paraphrase
    of one of its intent (接待时间是几点到几点 / 接待时间是几点) tests memory; replace it in the
    held-out file with a new message."""
    path, _, _ = SETS[name]
    examples = load_examples(path)
    assert near_duplicates(examples) == []
    assert close_paraphrases(examples) == []


def test_the_two_sets_do_not_score_the_same_message():
    first = {text for text, _ in load_heldout(HELDOUT_PATH)}
    assert not first & {text for text, _ in load_heldout(STYLES_HELDOUT_PATH)}


@pytest.mark.parametrize("name", SETS)
def test_intent_macro_f1_as_answered(parsed, name):
    examples, results = parsed[name]
    predicted = [r["intent"]["name"] for r in results]
    scores = score(examples, predicted)
    fallback = sum(p == FALLBACK for p in predicted) / len(predicted)
    print(f"\n{name} held-out set: accuracy {scores.accuracy:.3f}, macro-F1 {scores.macro_f1:.3f}, "
          f"fallback {fallback:.1%} ({len(examples)} messages)")
    assert scores.macro_f1 >= SETS[name][2], scores.report


@pytest.mark.parametrize("name", SETS)
def test_crisis_messages_are_never_missed(parsed, name):
    examples, results = parsed[name]
    missed = [text for (text, intent), r in zip(examples, results)
              if intent == "crisis" and r["intent"]["name"] != "crisis"]
    assert not missed
