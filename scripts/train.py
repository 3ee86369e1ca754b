"""Train the model unless one trained from the same inputs exists.

The model's name is a hash of everything that shapes it: the pipeline and policies, the domain, the
training data, our NLU components, their dictionary and the phrase matcher they share with the
action server (actions/triage/lexicon.py), and the pinned versions of the packages
that train it (Rasa, TensorFlow, scikit-learn, Jieba). Unchanged inputs find
their model in models/ and training is skipped; `models/current.tar.gz` always points at the model
for the current inputs, which is what `make run` and the tests load. Within a training, Rasa's own
cache (.rasa/cache) retrains only the components whose inputs changed.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
INPUT_GLOBS = (
    "config.yml",
    "domain.yml",
    "data/**/*.yml",
    "bot/nlu/**/*.py",
    "bot/nlu/dictionary/*",
    "actions/triage/lexicon.py",   # the phrase matcher of bot/nlu's stage extractor
)
KEPT_MODELS = 3
# Pinned packages whose versions shape a trained model; other pins (web, WeChat, test tools) do not.
MODEL_PACKAGES = re.compile(r"^(rasa|rasa-sdk|tensorflow|tensorflow-text|scikit-learn|numpy|scipy|jieba|pypinyin)==", re.I)


def input_files() -> list[Path]:
    files = {path for pattern in INPUT_GLOBS for path in ROOT.glob(pattern) if path.is_file()}
    return sorted(files)


def model_package_pins() -> bytes:
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()
    return "\n".join(sorted(line for line in lock if MODEL_PACKAGES.match(line))).encode()


def inputs_hash() -> str:
    digest = hashlib.sha256(model_package_pins())
    for path in input_files():
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def point_current_at(model: Path) -> None:
    current = MODELS / "current.tar.gz"
    current.unlink(missing_ok=True)
    current.symlink_to(model.name)


def prune_old_models(keep: Path) -> None:
    models = sorted(
        (p for p in MODELS.glob("*.tar.gz") if not p.is_symlink() and p != keep),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in models[KEPT_MODELS - 1 :]:
        old.unlink()


def main() -> int:
    name = f"model-{inputs_hash()}"
    model = MODELS / f"{name}.tar.gz"
    if model.exists():
        print(f"Model {model.name} is up to date; training skipped.")
    else:
        print(f"Inputs changed: training {model.name} ...", flush=True)
        command = [
            sys.executable, "-m", "rasa", "train",
            "--fixed-model-name", name, "--out", str(MODELS),
        ]
        subprocess.run(command, cwd=ROOT, check=True)
    point_current_at(model)
    prune_old_models(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
