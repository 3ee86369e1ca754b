"""Intent evaluation on a held-out set: accuracy, macro-F1 and a per-intent report.

Used by the NLU gate in the test suite and by ``benchmarks/nlu.py``. Works with any parse function, so
the trained assistant and the baselines are measured the same way.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Text, Tuple

from rasa.shared.nlu.training_data.loading import load_data
from sklearn.metrics import accuracy_score, classification_report, f1_score

ROOT = Path(__file__).resolve().parents[2]
# The first held-out set: everyday messages of every kind.
HELDOUT_PATH = ROOT / "tests" / "nlu" / "heldout"
# The second: only the styles that are hardest to read (slips, dialect, full-width, emoji, very short,
# very long), by writers who saw neither data/ nor the first set.
STYLES_HELDOUT_PATH = ROOT / "tests" / "nlu" / "heldout_styles"
HELDOUT_SETS = {"first held-out set": HELDOUT_PATH, "styles held-out set": STYLES_HELDOUT_PATH}
TRAINING_PATH = ROOT / "data" / "nlu"


@dataclass
class IntentScores:
    accuracy: float
    macro_f1: float
    report: Text
    errors: List[Tuple[Text, Text, Text]] = field(default_factory=list)  # text, expected, predicted


def load_examples(path: Path | Text = HELDOUT_PATH) -> List[Tuple[Text, Text]]:
    """(text, intent) pairs of an NLU YAML file, or of every Rasa NLU .yml file below a folder (other
    YAML there, e.g. the lookup tables' companions in ``data/``, is not intent data)."""
    from rasa.shared.data import is_nlu_file

    path = Path(path)
    files = sorted(f for f in path.rglob("*.yml") if is_nlu_file(str(f))) if path.is_dir() else [path]
    return [
        (m.get("text"), m.get("intent"))
        for file in files
        for m in load_data(str(file)).intent_examples
    ]


def comparable(text: Text) -> Text:
    """A message as the overlap check compares it: width folded, no spaces or punctuation, lower case."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(char for char in folded if not (char.isspace() or unicodedata.category(char)[0] in "PS"))


def load_heldout(path: Path | Text = HELDOUT_PATH) -> List[Tuple[Text, Text]]:
    """The held-out examples, every one scored.

    Nothing is dropped silently: a message that is also a training example, the same in other
    punctuation, spaces or width, or a close paraphrase of one, makes the gate fail
    (``near_duplicates``, ``close_paraphrases``), so that it is replaced in the held-out file.
    """
    return load_examples(path)


def near_duplicates(examples: Sequence[Tuple[Text, Text]], training: Path | Text = TRAINING_PATH) -> List[Tuple[Text, Text]]:
    """(held-out, training) pairs that are the same message once punctuation, spaces and width are evened out."""
    trained = {comparable(text): text for text, _ in load_examples(training)}
    return [(text, trained[comparable(text)]) for text, _ in examples if comparable(text) in trained]


CLOSE_PARAPHRASE_RATIO = 80  # in %: 接待时间是几点到几点 / 接待时间是几点 is 82


def close_paraphrases(
    examples: Sequence[Tuple[Text, Text]], training: Path | Text = TRAINING_PATH
) -> List[Tuple[Text, Text]]:
    """(held-out, training) pairs of one intent that are nearly the same message: once punctuation,
    spaces and width are evened out, their characters agree for at least ``CLOSE_PARAPHRASE_RATIO``
    percent (``rapidfuzz.fuzz.ratio``, 2·LCS / total length), or the shorter of at least four
    characters stands whole in a longer one at most twice its length. Such a message tests memory,
    not understanding."""
    from rapidfuzz import fuzz, process

    by_intent: Dict[Text, List[Tuple[Text, Text]]] = {}
    for text, intent in load_examples(training):
        by_intent.setdefault(intent, []).append((comparable(text), text))
    pairs = []
    for text, intent in examples:
        typed = comparable(text)
        trained = by_intent.get(intent, [])
        if len(typed) < 4 or not trained:
            continue  # 你好, 好的: too short for a paraphrase to mean anything
        found = process.extractOne(
            typed, [c for c, _ in trained], scorer=fuzz.ratio, score_cutoff=CLOSE_PARAPHRASE_RATIO
        )
        if found is not None:
            pairs.append((text, trained[found[2]][1]))
            continue
        for other, original in trained:
            shorter, longer = sorted((typed, other), key=len)
            if len(shorter) >= 4 and shorter in longer and len(longer) <= 2 * len(shorter):
                pairs.append((text, original))
                break
    return pairs


def score(examples: Sequence[Tuple[Text, Text]], predicted: Sequence[Text]) -> IntentScores:
    expected = [intent for _, intent in examples]
    labels = sorted(set(expected))
    return IntentScores(
        accuracy=accuracy_score(expected, predicted),
        macro_f1=f1_score(expected, predicted, labels=labels, average="macro", zero_division=0),
        report=classification_report(expected, predicted, labels=labels, zero_division=0),
        errors=[
            (text, want, got)
            for (text, want), got in zip(examples, predicted)
            if want != got
        ],
    )


def evaluate(parse: Callable[[Text], Text], examples: Sequence[Tuple[Text, Text]]) -> IntentScores:
    """Scores a function that maps a message to its predicted intent."""
    return score(examples, [parse(text) for text, _ in examples])


def intent_counts(examples: Sequence[Tuple[Text, Text]]) -> Dict[Text, int]:
    counts: Dict[Text, int] = {}
    for _, intent in examples:
        counts[intent] = counts.get(intent, 0) + 1
    return counts


def worst_confusions(scores: IntentScores, count: int = 10) -> List[Tuple[Tuple[Text, Text], int]]:
    """The most frequent (expected, predicted) pairs among the errors."""
    from collections import Counter

    return Counter((want, got) for _, want, got in scores.errors).most_common(count)
