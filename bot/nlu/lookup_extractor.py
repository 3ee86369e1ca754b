"""Entity extraction from lookup tables, longest match first.

Rasa's ``RegexEntityExtractor`` only uses lookup tables of entities annotated in the training
examples, which would make DIET learn the same entity a second time. This extractor reads the lookup
tables named in its config straight from the training data; ``EntitySynonymMapper`` (placed after it)
maps each matched phrase to its canonical value, e.g. 判了但是不执行 → ``not_enforced``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

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

from bot.nlu.phrases import LookupTableComponent


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True
)
class LookupEntityExtractor(LookupTableComponent, EntityExtractorMixin):
    """Extracts the entities whose names are given in ``entities`` from same-named lookup tables."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"entities": []}

    def table_names(self) -> List[Text]:
        return list(self._config["entities"])

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str):
                continue
            found = [
                {
                    ENTITY_ATTRIBUTE_TYPE: match.table,
                    ENTITY_ATTRIBUTE_START: match.start,
                    ENTITY_ATTRIBUTE_END: match.end,
                    ENTITY_ATTRIBUTE_VALUE: match.phrase,
                    EXTRACTOR: self.__class__.__name__,
                }
                for match in self.matcher.find(text)
            ]
            if found:
                message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages
