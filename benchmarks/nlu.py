"""NLU benchmark on the held-out set: this pipeline against two baselines.

Prints accuracy and macro-F1 of
  1. this assistant's pipeline (config.yml),
  2. Rasa's default pipeline with the Jieba tokenizer (benchmarks/configs/rasa_default_jieba.yml),
  3. a character n-gram TF-IDF + logistic regression baseline (scikit-learn),
with each one's training time and parse latency, plus the confidence distribution that the fallback
threshold was tuned from. Every model is trained from scratch on data/ and never sees tests/nlu/.

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

from bot.nlu.evaluation import IntentScores, load_heldout, score  # noqa: E402

FALLBACK = "nlu_fallback"


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

    examples = load_heldout()
    print(f"Held-out set: {len(examples)} messages, {len(set(i for _, i in examples))} intents\n")
    results: Dict[Text, Dict] = {}
    with tempfile.TemporaryDirectory() as out:
        model, seconds = train_rasa_nlu(ROOT / "config.yml", Path(out))
        results["this pipeline (config.yml)"] = {**measure_rasa(model, examples), "train_s": seconds}
        if not args.skip_rasa_default:
            model, seconds = train_rasa_nlu(ROOT / "benchmarks/configs/rasa_default_jieba.yml", Path(out))
            results["Rasa default + Jieba"] = {**measure_rasa(model, examples), "train_s": seconds}
    results["char n-gram TF-IDF + LR"] = measure_tfidf(examples)

    print("| pipeline | accuracy | macro-F1 | final macro-F1 (with fallback) | fallback rate | NLU training | parse median | parse p95 |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        c: IntentScores = r["classifier"]
        print(f"| {name} | {c.accuracy:.3f} | {c.macro_f1:.3f} | {r['final'].macro_f1:.3f} | "
              f"{r['fallback_rate']:.1%} | {r['train_s']:.0f} s | {r['latency_ms']:.1f} ms | {r['latency_p95_ms']:.1f} ms |")

    ours = results["this pipeline (config.yml)"]
    print("\nFallback threshold (this pipeline): share sent to fallback, accuracy of the rest")
    for threshold, fallback_share, kept_accuracy in threshold_table(ours["confidences"]):
        print(f"  {threshold:.1f}: {fallback_share:6.1%} to fallback, {kept_accuracy:6.1%} correct among answered")
    print("\nPer-intent report (this pipeline, classifier intent):")
    print(ours["classifier"].report)
    print("Misclassified:")
    for text, want, got in ours["classifier"].errors:
        print(f"  {want:>28} -> {got:<28} {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
