"""Crisis language detection that overrides whatever intent the classifier chose.

A citizen who writes 不想活了 or 同归于尽 inside a long complaint must get the safety reply at once, even
when the classifier is sure the message is about wages. What counts as crisis language, and what does
not (我又没说要寻死, 累死了, 出了事你们负责), is decided by ``bot.nlu.crisis_matcher`` from the reviewed
lexicon: the ``crisis_terms`` lookup table (``data/nlu/crisis_terms.yml``) and
``data/crisis/lexicon.yml``. This component only applies its verdict:

* crisis language found: the intent becomes ``crisis`` (confidence 1), the classifier's ranking follows;
* none found, but the classifier chose ``crisis``: the classifier's choice stands only when it is sure
  (``classifier_min_confidence``) and nothing in the message reads as a negation or a figure of speech;
  otherwise the next intent of the ranking takes its place, or ``nlu_fallback`` when that one is below
  ``fallback_threshold`` (keep it equal to the FallbackClassifier's threshold in config.yml).

Both files are stored in the model when it is trained. ``lexicon_digest`` (a digest of the two files,
computed as the configuration is read) makes Rasa's training cache retrain this component when only
``data/crisis/lexicon.yml`` changed, a file Rasa itself does not read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.crisis_matcher import (
    LEXICON_PATH,
    ROOT,
    CrisisLexicon,
    CrisisMatcher,
    CrisisVerdict,
    lexicon_fingerprint,
    read_refinements,
)

LEXICON_FILE = "crisis_lexicon.json"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class CrisisDetector(GraphComponent):
    """Sets the ``crisis`` intent when a message contains crisis language (see the module)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "lookup_table": "crisis_terms",
            "lexicon": str(LEXICON_PATH.relative_to(ROOT)),
            "lexicon_digest": lexicon_fingerprint(),
            "intent": "crisis",
            # Without crisis language the classifier's own `crisis` must be this sure: at 0.6 a
            # work-injury complaint (摔伤了腰，老板不管了) got the crisis reply instead of its road.
            "classifier_min_confidence": 0.75,
            "fallback_intent": "nlu_fallback",
            "fallback_threshold": 0.3,
        }

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 matcher: CrisisMatcher) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.matcher = matcher

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "CrisisDetector":
        return cls(config, model_storage, resource, CrisisMatcher(CrisisLexicon([], {})))

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "CrisisDetector":
        try:
            with model_storage.read_from(resource) as directory:
                data = json.loads((directory / LEXICON_FILE).read_text(encoding="utf-8"))
        except ValueError:  # resource missing: the component was never trained
            data = {}
        return cls(config, model_storage, resource, CrisisMatcher(CrisisLexicon.from_dict(data)))

    def train(self, training_data: TrainingData) -> Resource:
        terms = [
            str(element).strip()
            for table in training_data.lookup_tables
            if table["name"] == self._config["lookup_table"]
            for element in table["elements"]
        ]
        lexicon = CrisisLexicon(terms, read_refinements(self._lexicon_path()))
        self.matcher = CrisisMatcher(lexicon)  # fails here, at training, on an entry that does not compile
        with self._model_storage.write_to(self._resource) as directory:
            (directory / LEXICON_FILE).write_text(json.dumps(lexicon.to_dict(), ensure_ascii=False), encoding="utf-8")
        return self._resource

    def _lexicon_path(self) -> Path:
        path = Path(self._config["lexicon"])
        return path if path.is_absolute() or path.exists() else ROOT / path

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text.strip():
                continue
            verdict = self.matcher.assess(text)
            if verdict.crisis:
                self._set_crisis(message)
            else:
                self._check_classifier(message, verdict)
        return messages

    def _set_crisis(self, message: Message) -> None:
        crisis = {"name": self._config["intent"], "confidence": 1.0}
        ranking = [e for e in message.get(INTENT_RANKING_KEY) or [] if e.get("name") != crisis["name"]]
        message.set(INTENT, crisis, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [crisis] + ranking, add_to_output=True)

    def _check_classifier(self, message: Message, verdict: CrisisVerdict) -> None:
        """The classifier chose ``crisis`` where the lexicon finds no crisis language: keep it only
        when the classifier is sure and nothing reads as a negation or a figure of speech."""
        intent = message.get(INTENT) or {}
        if intent.get("name") != self._config["intent"]:
            return
        if not verdict.cleared and (intent.get("confidence") or 0.0) >= self._config["classifier_min_confidence"]:
            return
        ranking = [e for e in message.get(INTENT_RANKING_KEY) or [] if e.get("name") != self._config["intent"]]
        replacement: Optional[Dict[Text, Any]] = ranking[0] if ranking else None
        threshold = self._config["fallback_threshold"]
        if replacement is None or (replacement.get("confidence") or 0.0) < threshold:
            replacement = {"name": self._config["fallback_intent"], "confidence": threshold}
            ranking = [replacement] + ranking
        message.set(INTENT, dict(replacement), add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
