"""Jieba tokenizer that is safe with whitespace and knows the petition vocabulary.

Rasa 3.6's ``JiebaTokenizer`` turns spaces into tokens of their own (rasa issue #7910), which shifts
features and breaks entity alignment for messages such as "138 1234 5678". This tokenizer drops
whitespace tokens and, before tokenizing, folds full-width ASCII (１２月, ＡＢＣ) to half-width, so that
regexes, lookups and entity offsets all see the same text. Folding is one character for one character,
so annotated entity offsets in the training data stay valid.

Jieba also cuts across the values people give: 下下周五行吗 becomes 下 / 下周 / 五行 / 吗. Spans that
match one of the configured ``atomic_patterns`` (dates, times, phone numbers, booking codes) are kept
as single tokens, so entities align with token boundaries.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logging.getLogger("jieba").setLevel(logging.WARNING)


def fold_width(text: Text) -> Text:
    """Full-width letters, digits and the ideographic space to their half-width forms."""
    folded = []
    for char in text:
        if char == "\u3000":
            folded.append(" ")
        elif "\uff01" <= char <= "\uff5e":
            folded.append(unicodedata.normalize("NFKC", char))
        else:
            folded.append(char)
    return "".join(folded)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True
)
class PetitionTokenizer(JiebaTokenizer):
    """Width-folding, whitespace-safe Jieba tokenizer with a user dictionary."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**JiebaTokenizer.get_default_config(), "atomic_patterns": []}

    def __init__(self, config: Dict[Text, Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        patterns = config.get("atomic_patterns") or []
        self._atomic = re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            self._fold_text(example)
        return super().process_training_data(training_data)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._fold_text(message)
        return super().process(messages)

    @staticmethod
    def _fold_text(message: Message) -> None:
        text = message.get(TEXT)
        if isinstance(text, str):
            message.set(TEXT, fold_width(text))
        # Annotated values are folded alike, or １２月４号 would become a synonym of 12月4号.
        for entity in message.get(ENTITIES) or []:
            if isinstance(entity.get("value"), str):
                entity["value"] = fold_width(entity["value"])

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        import jieba

        text = message.get(attribute)
        tokens: List[Token] = []
        position = 0
        for match in self._atomic.finditer(text) if self._atomic else ():
            tokens += _jieba_tokens(jieba, text[position : match.start()], position)
            tokens.append(Token(match.group(), match.start()))
            position = match.end()
        tokens += _jieba_tokens(jieba, text[position:], position)
        return self._apply_token_pattern(tokens)


def _jieba_tokens(jieba: Any, text: Text, offset: int) -> List[Token]:
    return [
        Token(word, offset + start)
        for word, start, _ in jieba.tokenize(text)
        if word.strip()
    ]
