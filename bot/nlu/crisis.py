"""Crisis language detection that overrides whatever intent the classifier chose.

A citizen who writes 不想活了 or 同归于尽 inside a long complaint must get the safety reply at once, even
when the classifier is sure the message is about wages. The phrases are the ``crisis_terms`` lookup table in
``data/nlu/crisis_terms.yml``, so the bureau can review and extend them without touching code.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.phrases import LookupTableComponent


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class CrisisDetector(LookupTableComponent):
    """Sets the ``crisis`` intent when a message contains a crisis phrase."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"lookup_table": "crisis_terms", "intent": "crisis"}

    def table_names(self) -> List[Text]:
        return [self._config["lookup_table"]]

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str) and self.matcher.find(text):
                self._override_intent(message)
        return messages

    def _override_intent(self, message: Message) -> None:
        crisis = {"name": self._config["intent"], "confidence": 1.0}
        ranking = [
            entry
            for entry in message.get(INTENT_RANKING_KEY) or []
            if entry.get("name") != crisis["name"]
        ]
        message.set(INTENT, crisis, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [crisis] + ranking, add_to_output=True)
