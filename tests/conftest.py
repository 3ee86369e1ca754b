import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# A response {placeholder} without a value raises (bot/nlg.py, actions/bureau.py) instead of being left
# out quietly, here and in the servers the tests start.
os.environ.setdefault("STRICT_TEMPLATES", "1")
