"""Sound features: the message as toneless pinyin syllables, counted like words.

Most slips on a pinyin keyboard keep the sound (上纺 for 上访, 仲才 for 仲裁, 公资 for 工资): the
characters differ, the syllables do not. This featurizer is Rasa's ``CountVectorsFeaturizer`` reading
each token as its syllables (``pypinyin``, no tones) instead of its characters, so 上纺 and 上访 both
count as ``shang fang``. With ``fuzzy: true`` the sounds that many speakers merge are merged too
(zh/z, ch/c, sh/s, -ng/-n), so 投述 (tou shu) meets 投诉 (tou su).

Per token the features are its syllables (and syllable pairs with ``max_ngram: 2``); per message,
the syllables and syllable pairs of the whole message. Non-Chinese tokens stay as they are.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.pinyin import syllables


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True
)
class PinyinFeaturizer(CountVectorsFeaturizer):
    """Counts the toneless pinyin syllables of each token and of the whole message."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **CountVectorsFeaturizer.get_default_config(),
            "analyzer": "word",
            "min_ngram": 1,
            "max_ngram": 2,
            "fuzzy": False,
        }

    @staticmethod
    def _attributes_for(analyzer: Text) -> List[Text]:
        # Only what the citizen wrote has a sound; intent and action names do not.
        return [TEXT]

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn", "pypinyin"]

    def _get_message_tokens_by_attribute(self, message: Message, attribute: Text) -> List[Text]:
        tokens = super()._get_message_tokens_by_attribute(message, attribute)
        if attribute != TEXT:
            return tokens
        fuzzy = bool(self._config.get("fuzzy"))
        return [syllables(token, fuzzy) or token for token in tokens]
