"""Entity extraction from lookup tables, longest match first.

Rasa's ``RegexEntityExtractor`` only uses lookup tables of entities annotated in the training
examples, which would make DIET learn the same entity a second time. This extractor reads the lookup
tables named in its config straight from the training data; ``EntitySynonymMapper`` (placed after it)
maps each matched phrase to its canonical value, e.g. 判了但是不执行 → ``not_enforced``.

Matching and context are ``actions.triage.lexicon`` (what the action server runs too). For the
``matter_stage`` table, the context rules of data/nlu/stages.yml (its ``negation`` and ``followed_by``
sections, which Rasa's own reader ignores) are read when training and kept in the model. A phrase whose
value a rule changes is given that value directly (合同里没有约定由仲裁委 → ``no_arbitration_clause``),
which ``EntitySynonymMapper`` leaves as it is; other phrases are given as written, for the mapper.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from actions.triage.lexicon import STAGE_TABLE, STAGES_NLU_PATH, ContextRules, load_context_rules
from bot.nlu.phrases import LookupTableComponent


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True
)
class LookupEntityExtractor(LookupTableComponent, EntityExtractorMixin):
    """Extracts the entities whose names are given in ``entities`` from same-named lookup tables."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # stages_file: the file holding the context rules of the matter_stage table (default: the
        # project's data/nlu/stages.yml, which also holds the table).
        return {"entities": [], "stages_file": None}

    def table_names(self) -> List[Text]:
        return list(self._config["entities"])

    @staticmethod
    def _rules_for(config: Dict[Text, Any]) -> Dict[Text, ContextRules]:
        if STAGE_TABLE not in config.get("entities", []):
            return {}
        return {STAGE_TABLE: load_context_rules(Path(config.get("stages_file") or STAGES_NLU_PATH))}

    def context_rules(self, training_data: TrainingData) -> Dict[Text, ContextRules]:
        return self._rules_for(self._config)

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[Text]:
        """The context rules come from outside the training data (Rasa's reader ignores them): make
        them part of the fingerprint, so that Rasa's training cache retrains this component when
        only the rules change."""
        rules = {name: r.to_dict() for name, r in cls._rules_for(config).items()}
        return hashlib.sha256(json.dumps(rules, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str):
                continue
            found = [
                {
                    ENTITY_ATTRIBUTE_TYPE: reading.match.table,
                    ENTITY_ATTRIBUTE_START: reading.match.start,
                    ENTITY_ATTRIBUTE_END: reading.match.end,
                    ENTITY_ATTRIBUTE_VALUE: reading.value if reading.by_context else reading.match.phrase,
                    EXTRACTOR: self.__class__.__name__,
                }
                for reading in self.read(text)
            ]
            if found:
                message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages
