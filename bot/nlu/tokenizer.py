"""Jieba tokenizer that is safe with whitespace and knows the petition vocabulary.

Rasa 3.6's ``JiebaTokenizer`` turns spaces into tokens of their own (rasa issue #7910), which shifts
features and breaks entity alignment for messages such as "138 1234 5678". This tokenizer drops
whitespace tokens and, before tokenizing, folds full-width ASCII (１２月, ＡＢＣ) to half-width, so that
regexes, lookups and entity offsets all see the same text. Folding is one character for one character,
so annotated entity offsets in the training data stay valid.

Jieba also cuts across the values people give: 下下周五行吗 becomes 下 / 下周 / 五行 / 吗. Spans that
match one of the configured ``atomic_patterns`` (dates, times, phone numbers, booking codes) are kept
as single tokens, so entities align with token boundaries.

With ``normalisation_path`` set, the text is normalised before it is cut (``bot.nlu.normalisation``:
dialect words, internet spellings, slips, emoji, repeated punctuation): each token's text is the
standard word (俺 → 我) while its offsets point at what the citizen typed, so entities, regexes and
the tracker keep the original message. The lexicon is stored in the model.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.normalisation import Normaliser, load_entries

logger = logging.getLogger(__name__)
logging.getLogger("jieba").setLevel(logging.WARNING)

# In the model's resource folder beside Jieba's user dictionaries, which Jieba must not read.
NORMALISATION_FILE = "normalisation.json"


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
        return {**JiebaTokenizer.get_default_config(), "atomic_patterns": [], "normalisation_path": None}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        normalisation: Optional[List[Dict[Text, Text]]] = None,
    ) -> None:
        super().__init__(config, model_storage, resource)
        patterns = config.get("atomic_patterns") or []
        self._atomic = re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None
        self._normalisation_entries = normalisation
        self._normaliser = Normaliser.from_entries(normalisation) if normalisation is not None else None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "PetitionTokenizer":
        if config["dictionary_path"] is not None:
            cls._load_custom_dictionary(config["dictionary_path"])
        path = config.get("normalisation_path")
        return cls(config, model_storage, resource, load_entries(path) if path else None)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "PetitionTokenizer":
        normalisation = None
        try:
            with model_storage.read_from(resource) as directory:
                cls._load_custom_dictionary(str(directory))
                stored = Path(directory) / NORMALISATION_FILE
                if stored.exists():
                    normalisation = json.loads(stored.read_text(encoding="utf-8"))
        except ValueError:
            logger.debug("PetitionTokenizer: nothing stored in the model")
        if config.get("normalisation_path") and normalisation is None:
            raise ValueError("the model was trained without its normalisation lexicon: retrain it")
        return cls(config, model_storage, resource, normalisation)

    @staticmethod
    def _load_custom_dictionary(path: Text) -> None:
        import jieba

        folder = Path(path)
        for dictionary in sorted(folder.iterdir()) if folder.is_dir() else []:
            if dictionary.name != NORMALISATION_FILE:
                jieba.load_userdict(str(dictionary))

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as directory:
            if self._config["dictionary_path"] is not None:
                self._copy_files_dir_to_dir(self._config["dictionary_path"], str(directory))
            if self._normalisation_entries is not None:
                (Path(directory) / NORMALISATION_FILE).write_text(
                    json.dumps(self._normalisation_entries, ensure_ascii=False), encoding="utf-8"
                )

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
        if self._normaliser is None or attribute != TEXT:
            return self._apply_token_pattern(self._cut(jieba, text))
        normalised = self._normaliser.normalise(text)
        if not normalised.text.strip():
            # Nothing left (a message of emoji only, 😭😭): the classifier needs tokens, so it reads
            # what was typed.
            return self._apply_token_pattern(self._cut(jieba, text))
        tokens = [
            Token(token.text, *normalised.original_span(token.start, token.end))
            for token in self._cut(jieba, normalised.text)
        ]
        return self._apply_token_pattern(tokens)

    def _cut(self, jieba: Any, text: Text) -> List[Token]:
        tokens: List[Token] = []
        position = 0
        for match in self._atomic.finditer(text) if self._atomic else ():
            tokens += _jieba_tokens(jieba, text[position : match.start()], position)
            tokens.append(Token(match.group(), match.start()))
            position = match.end()
        tokens += _jieba_tokens(jieba, text[position:], position)
        return tokens


def _jieba_tokens(jieba: Any, text: Text, offset: int) -> List[Token]:
    return [
        Token(word, offset + start)
        for word, start, _ in jieba.tokenize(text)
        if word.strip()
    ]
