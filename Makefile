# 信访助手 — see README.md. Every target works on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_VERSION := $(shell cat .python-version)
BASE_PYTHON ?= $(shell pyenv root 2>/dev/null)/versions/$(PYTHON_VERSION)/bin/python
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONPATH := $(CURDIR)

.PHONY: help install train run test validate test-stories system-deps benchmark-nlu benchmark-nlu-ideas benchmark-load clean

help:
	@echo "make run      start the assistant (installs and trains first when needed)"
	@echo "make test     run the whole test suite"
	@echo "make install  create or update the environment in $(VENV)/"
	@echo "make train    train the model unless one trained from the same inputs exists"
	@echo "make benchmark-nlu  compare NLU pipelines on both held-out sets"
	@echo "make benchmark-nlu-ideas  each understanding idea alone and together (docs/nlu.md)"
	@echo "make benchmark-load load figures: embedded, two replicas, stock rasa init"

install: $(VENV)/.installed bot/web/static/rasa-webchat.js

# The web chat widget, from the npm registry, copied into bot/web/static/ (no CDN at run time).
bot/web/static/rasa-webchat.js: package-lock.json bot/web/build.js
	npm ci --ignore-scripts --no-audit --no-fund
	node bot/web/build.js

$(VENV)/.installed: requirements.lock
	@test -x $(BASE_PYTHON) || { echo "Python $(PYTHON_VERSION) not found at $(BASE_PYTHON) (pyenv install $(PYTHON_VERSION))"; exit 1; }
	@test -x $(PY) || $(BASE_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==24.0
	$(PY) -m pip install --quiet --no-deps -r requirements.lock
	$(PY) -m pip check
	@touch $@

train: install
	$(PY) scripts/train.py

run: train
	$(PY) scripts/run.py

validate: install
	$(PY) scripts/validate.py

test-stories: train
	$(RASA) test core --stories tests/stories --fail-on-prediction-errors --out results/stories

# Debian packages the tests need: the browser tests drive chromium (Playwright's own browser download
# fails here) and need a CJK font to render Chinese; the scale-out tests put HAProxy in front of the
# replicas.
SYSTEM_PACKAGES := chromium fonts-noto-cjk haproxy
system-deps:
	@dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1 || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(SYSTEM_PACKAGES); }

test: train validate test-stories system-deps
	$(PY) -m pytest

benchmark-nlu: train
	$(PY) benchmarks/nlu.py

benchmark-nlu-ideas: install
	$(PY) benchmarks/nlu_ideas.py

benchmark-load: train system-deps
	$(PY) benchmarks/load.py

clean:
	rm -rf results .pytest_cache
