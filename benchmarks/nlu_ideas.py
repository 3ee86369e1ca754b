"""Which idea helps citizens be understood: each one alone and all together, on both held-out sets.

The ideas of issue 11, switched on one at a time over a baseline:
  - normalisation: dialect words, internet spellings, slips, emoji and repeated punctuation evened out
    before the tokenizer (``normalisation_path`` of the tokenizer, data/normalisation/lexicon.yml);
  - pinyin: toneless pinyin syllables as features (``bot.nlu.pinyin_featurizer.PinyinFeaturizer``),
    exact or with the sounds many speakers merge (``fuzzy``);
  - data: the training examples written in the citizens' styles, against the training data as it was
    before them (``BASELINE_DATA_COMMIT``);
  - scaled: the intent classifier on features scaled to unit length per message
    (``bot.nlu.length_normalised_classifier``), against Rasa's ``LogisticRegressionClassifier`` on raw
    counts as before.

Every variant is config.yml with the entity extractor left out (DIET extracts entities only here and
does not touch the intent, so leaving it out changes no intent and saves minutes per variant). Both
held-out sets are scored with the training data of today removed from them, so every variant is
scored on the same messages.

    make benchmark-nlu-ideas       # or: python benchmarks/nlu_ideas.py [--only all,baseline]
"""

from __future__ import annotations

import argparse
import copy
import io
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Text

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.nlu import FALLBACK, classifier_intent, rasa_parser  # noqa: E402
from bot.nlu.evaluation import HELDOUT_SETS, load_heldout, score, worst_confusions  # noqa: E402

# The last commit before the training data in the citizens' styles was added (issue 11).
BASELINE_DATA_COMMIT = "7ab6588"
TOKENIZER = "bot.nlu.tokenizer.PetitionTokenizer"
PINYIN = "bot.nlu.pinyin_featurizer.PinyinFeaturizer"
SCALED = "bot.nlu.length_normalised_classifier.LengthNormalisedLogisticRegressionClassifier"
NORMALISATION = "data/normalisation/lexicon.yml"

# name: (normalisation, pinyin: None | "exact" | "fuzzy", today's data, scaled classifier)
VARIANTS = {
    "baseline (before issue 11)": (False, None, False, False),
    "+ normalisation": (True, None, False, False),
    "+ pinyin (exact)": (False, "exact", False, False),
    "+ pinyin (fuzzy)": (False, "fuzzy", False, False),
    "+ data in the citizens' styles": (False, None, True, False),
    "+ scaled classifier": (False, None, False, True),
    "all but normalisation": (False, "fuzzy", True, True),
    "all but pinyin": (True, None, True, True),
    "all but data": (True, "fuzzy", False, True),
    "all but the scaled classifier": (True, "fuzzy", True, False),
    "all (config.yml)": (True, "fuzzy", True, True),
}


def variant_config(normalisation: bool, pinyin: str | None, scaled: bool) -> Dict:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    pipeline: List[Dict] = []
    for component in config["pipeline"]:
        component = copy.deepcopy(component)
        if component["name"] == "DIETClassifier" or component["name"] == PINYIN:
            continue
        if component["name"] == TOKENIZER:
            component["normalisation_path"] = NORMALISATION if normalisation else None
        if component["name"] == SCALED and not scaled:
            component = {"name": "LogisticRegressionClassifier", "max_iter": component["max_iter"],
                         "random_state": component["random_state"]}
        pipeline.append(component)
        if component["name"] == "LexicalSyntacticFeaturizer" and pinyin:
            pipeline.append({"name": PINYIN, "fuzzy": pinyin == "fuzzy"})
    config["pipeline"] = pipeline
    config["policies"] = []
    return config


def baseline_data(into: Path) -> Path:
    archive = subprocess.run(
        ["git", "archive", BASELINE_DATA_COMMIT, "data"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into)
    return into / "data"


def train(config: Dict, data: Path, out: Path, name: str) -> tuple[Path, float]:
    config_path = out / f"{name}.yml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "rasa", "train", "nlu", "--config", str(config_path), "--nlu", str(data),
         "--out", str(out), "--fixed-model-name", name],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return out / f"{name}.tar.gz", time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated variant numbers (1-based) to run")
    args = parser.parse_args()
    chosen = list(VARIANTS.items())
    if args.only:
        chosen = [chosen[int(i) - 1] for i in args.only.split(",")]

    sets = {name: load_heldout(path) for name, path in HELDOUT_SETS.items()}
    for name, examples in sets.items():
        print(f"{name}: {len(examples)} messages, {len(set(i for _, i in examples))} intents")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        old_data = baseline_data(tmp_path / "baseline")
        for index, (name, (normalisation, pinyin, today, scaled)) in enumerate(chosen):
            model, seconds = train(
                variant_config(normalisation, pinyin, scaled), ROOT / "data" if today else old_data, tmp_path, f"v{index}"
            )
            parse = rasa_parser(model)
            parse("你好")
            row = {"name": name, "train_s": seconds}
            for set_name, examples in sets.items():
                parsed = [parse(text) for text, _ in examples]
                row[set_name] = {
                    "classifier": score(examples, [classifier_intent(p) for p in parsed]),
                    "answered": score(examples, [p["intent"]["name"] for p in parsed]),
                    "fallback": sum(p["intent"]["name"] == FALLBACK for p in parsed) / len(parsed),
                }
            rows.append(row)
            print(f"  trained and scored: {name} ({seconds:.0f} s)", flush=True)

    names = list(sets)
    print("\n| variant | " + " | ".join(f"{n}: macro-F1 (classifier) | as answered | fallback" for n in names)
          + " | NLU training (intents only) |")
    print("|---|" + "---|---|---|" * len(names) + "---|")
    for row in rows:
        cells = [f"{row[n]['classifier'].macro_f1:.3f} | {row[n]['answered'].macro_f1:.3f} | {row[n]['fallback']:.1%}"
                 for n in names]
        print(f"| {row['name']} | " + " | ".join(cells) + f" | {row['train_s']:.0f} s |")
    for row in (rows[0], rows[-1]) if len(rows) > 1 else rows:
        for n in names:
            print(f"\nTen worst confusions, {row['name']}, {n} (expected -> predicted):")
            for (want, got), count in worst_confusions(row[n]["classifier"]):
                print(f"  {count:3d}  {want} -> {got}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
