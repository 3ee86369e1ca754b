"""NLU benchmark on both held-out sets: this pipeline against two baselines.

Prints accuracy and macro-F1 of
  1. this assistant's pipeline (config.yml),
  2. Rasa's default pipeline with the Jieba tokenizer (benchmarks/configs/rasa_default_jieba.yml),
  3. a character n-gram TF-IDF + logistic regression baseline (scikit-learn),
with each one's training time and parse latency, plus the confidence distribution that the fallback
threshold was tuned from and, per ambiguity margin, how often two buttons would be offered instead of
a guess and how often that guess would have been wrong. Every model is trained from scratch on data/
and never sees tests/nlu/. Which idea of issue 11 helped by how much: benchmarks/nlu_ideas.py.

    make benchmark-nlu            # or: python benchmarks/nlu.py [--skip-rasa-default]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Text, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.nlu.evaluation import HELDOUT_SETS, IntentScores, load_heldout, score, worst_confusions  # noqa: E402

FALLBACK = "nlu_fallback"
FALLBACK_THRESHOLD = 0.3  # config.yml's FallbackClassifier threshold


def train_rasa_nlu(config: Path, out: Path) -> Tuple[Path, float]:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "rasa", "train", "nlu", "--config", str(config), "--nlu", "data",
         "--out", str(out), "--fixed-model-name", config.stem],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return out / f"{config.stem}.tar.gz", time.perf_counter() - started


def rasa_parser(model: Path) -> Callable[[Text], Dict]:
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # parse events at debug level would print the messages

    agent = Agent.load(str(model))
    loop = asyncio.new_event_loop()
    return lambda text: loop.run_until_complete(agent.parse_message(text))


def classifier_intent(parsed: Dict) -> Text:
    """The classifier's own choice: the final intent, or the best one below the fallback."""
    if parsed["intent"]["name"] != FALLBACK:
        return parsed["intent"]["name"]
    ranked = [e for e in parsed.get("intent_ranking", []) if e["name"] != FALLBACK]
    return ranked[0]["name"] if ranked else FALLBACK


def ranked(parsed: Dict) -> List[Dict]:
    return sorted((e for e in parsed.get("intent_ranking", []) if e["name"] != FALLBACK),
                  key=lambda e: e["confidence"], reverse=True)


def top_two(parsed: Dict) -> Tuple[float, float]:
    best = ranked(parsed)[:2] + [{"confidence": 0.0}] * 2
    return best[0]["confidence"], best[1]["confidence"]


def ambiguity_table(top: List[Tuple[Tuple[float, float], bool, bool]], threshold: float) -> List[Tuple]:
    """Per ambiguity threshold: share of messages offered two buttons (best above the fallback
    threshold, second within the margin), how often the best guess would have been wrong among them,
    and how often one of the two buttons is the right intent."""
    rows = []
    for margin in (0.0, 0.05, 0.1, 0.15, 0.2):
        asked = [(ok, in_two) for (first, second), ok, in_two in top if first >= threshold and first - second < margin]
        rows.append((margin, len(asked) / len(top), sum(not ok for ok, _ in asked) / max(len(asked), 1),
                     sum(in_two for _, in_two in asked) / max(len(asked), 1)))
    return rows


def measure_rasa(model: Path, examples) -> Dict:
    parse = rasa_parser(model)
    parse("你好")  # warm-up: the first call builds the TensorFlow graph
    parsed, latencies = [], []
    for text, _ in examples:
        started = time.perf_counter()
        parsed.append(parse(text))
        latencies.append(time.perf_counter() - started)
    return {
        "classifier": score(examples, [classifier_intent(p) for p in parsed]),
        "final": score(examples, [p["intent"]["name"] for p in parsed]),
        "fallback_rate": sum(p["intent"]["name"] == FALLBACK for p in parsed) / len(parsed),
        "confidences": [
            (max((e["confidence"] for e in p.get("intent_ranking", []) if e["name"] != FALLBACK), default=0.0),
             classifier_intent(p) == intent)
            for p, (_, intent) in zip(parsed, examples)
        ],
        "top_two": [
            (top_two(p), classifier_intent(p) == intent, intent in [e["name"] for e in ranked(p)[:2]])
            for p, (_, intent) in zip(parsed, examples)
        ],
        "latency_ms": statistics.median(latencies) * 1000,
        "latency_p95_ms": sorted(latencies)[int(0.95 * len(latencies))] * 1000,
    }


def measure_tfidf(examples) -> Dict:
    from rasa.shared.nlu.training_data.loading import load_data
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from bot.nlu.tokenizer import fold_width

    training = load_data(str(ROOT / "data" / "nlu"))
    texts = [fold_width(m.get("text")) for m in training.intent_examples]
    labels = [m.get("intent") for m in training.intent_examples]
    started = time.perf_counter()
    model = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True),
        LogisticRegression(C=10, max_iter=2000, random_state=20221),
    ).fit(texts, labels)
    train_seconds = time.perf_counter() - started
    latencies, predicted = [], []
    for text, _ in examples:
        started = time.perf_counter()
        predicted.append(model.predict([fold_width(text)])[0])
        latencies.append(time.perf_counter() - started)
    scores = score(examples, predicted)
    return {"classifier": scores, "final": scores, "fallback_rate": 0.0, "train_s": train_seconds,
            "latency_ms": statistics.median(latencies) * 1000,
            "latency_p95_ms": sorted(latencies)[int(0.95 * len(latencies))] * 1000}


def threshold_table(confidences: List[Tuple[float, bool]]) -> List[Tuple[float, float, float]]:
    """For candidate thresholds: share of messages sent to fallback, and accuracy of the rest."""
    rows = []
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        kept = [ok for conf, ok in confidences if conf >= threshold]
        rows.append((threshold, 1 - len(kept) / len(confidences), sum(kept) / max(len(kept), 1)))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-rasa-default", action="store_true", help="skip the slowest baseline")
    args = parser.parse_args()

    sets = {name: load_heldout(path) for name, path in HELDOUT_SETS.items()}
    with tempfile.TemporaryDirectory() as out:
        model, seconds = train_rasa_nlu(ROOT / "config.yml", Path(out))
        ours = {name: {**measure_rasa(model, examples), "train_s": seconds} for name, examples in sets.items()}
        default_model = None
        if not args.skip_rasa_default:
            default_model, default_seconds = train_rasa_nlu(ROOT / "benchmarks/configs/rasa_default_jieba.yml", Path(out))
        for name, examples in sets.items():
            print(f"\n## {name}: {len(examples)} messages, {len(set(i for _, i in examples))} intents\n")
            report(name, examples, ours[name],
                   measure_rasa(default_model, examples) | {"train_s": default_seconds} if default_model else None)
    return 0


def report(set_name: Text, examples, ours: Dict, rasa_default: Dict | None) -> None:
    results: Dict[Text, Dict] = {"this pipeline (config.yml)": ours}
    if rasa_default:
        results["Rasa default + Jieba"] = rasa_default
    results["char n-gram TF-IDF + LR"] = measure_tfidf(examples)

    print("| pipeline | accuracy | macro-F1 | final macro-F1 (with fallback) | fallback rate | NLU training | parse median | parse p95 |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        c: IntentScores = r["classifier"]
        print(f"| {name} | {c.accuracy:.3f} | {c.macro_f1:.3f} | {r['final'].macro_f1:.3f} | "
              f"{r['fallback_rate']:.1%} | {r['train_s']:.0f} s | {r['latency_ms']:.1f} ms | {r['latency_p95_ms']:.1f} ms |")

    print("\nFallback threshold (this pipeline): share sent to fallback, accuracy of the rest")
    for threshold, fallback_share, kept_accuracy in threshold_table(ours["confidences"]):
        print(f"  {threshold:.1f}: {fallback_share:6.1%} to fallback, {kept_accuracy:6.1%} correct among answered")
    print(f"\nTwo buttons instead of a guess (fallback threshold {FALLBACK_THRESHOLD}):")
    for margin, share, wrong, in_two in ambiguity_table(ours["top_two"], FALLBACK_THRESHOLD):
        print(f"  margin {margin:.2f}: {share:6.1%} of messages; the guess would have been wrong in {wrong:6.1%} "
              f"of them; the right intent is one of the two buttons in {in_two:6.1%}")
    print("\nTen worst confusions (expected -> predicted):")
    for (want, got), count in worst_confusions(ours["classifier"]):
        print(f"  {count:3d}  {want} -> {got}")
    print("\nPer-intent report (this pipeline, classifier intent):")
    print(ours["classifier"].report)
    print("Misclassified:")
    for text, want, got in ours["classifier"].errors:
        print(f"  {want:>28} -> {got:<28} {text}")


if __name__ == "__main__":
    sys.exit(main())
