"""The Rasa image (deploy/Dockerfile.rasa) holds every module of actions/ that bot/ imports: the
image cannot be built here, so a module missing from its COPY lines would only show in production."""

import json
import os
import re
import subprocess
import sys

from tests.conftest import ROOT

LIST_IMPORTED_ACTIONS_MODULES = """
import json, pkgutil, importlib, sys
import bot
for module in pkgutil.walk_packages(bot.__path__, "bot."):
    importlib.import_module(module.name)
print(json.dumps(sorted(name for name in sys.modules if name == "actions" or name.startswith("actions."))))
"""


def copied_into_image():
    dockerfile = (ROOT / "deploy" / "Dockerfile.rasa").read_text(encoding="utf-8")
    return {path for line in re.findall(r"^COPY (.+)$", dockerfile, re.MULTILINE) for path in line.split()}


def test_every_actions_module_bot_imports_is_in_the_rasa_image():
    listed = subprocess.run([sys.executable, "-c", LIST_IMPORTED_ACTIONS_MODULES], cwd=ROOT, check=True,
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    modules = json.loads(listed.stdout.strip().splitlines()[-1])
    assert "actions.bureau" in modules  # bot/nlg.py reads bureau.yml through it
    copied = copied_into_image()
    for module in modules:
        path = module.replace(".", "/")
        path += "/__init__.py" if (ROOT / path).is_dir() else ".py"     # a package, or a module
        folders = {"/".join(path.split("/")[:depth]) + "/" for depth in range(1, path.count("/") + 1)}
        assert path in copied or folders & copied, f"{path} is not copied into the Rasa image"
