"""Longest-match phrase lookup shared by the NLU components that read lookup tables."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.training_data import TrainingData

PHRASES_FILE = "phrases.json"


@dataclass(frozen=True)
class PhraseMatch:
    table: Text
    phrase: Text
    start: int
    end: int


class PhraseMatcher:
    """Finds non-overlapping phrases of named lookup tables, longest match first.

    Longest-first lets a negated phrase (还没起诉) win over the phrase it contains (起诉).
    """

    def __init__(self, tables: Dict[Text, List[Text]]) -> None:
        self.tables = {name: sorted(set(p for p in phrases if p)) for name, phrases in tables.items()}
        self._by_length = sorted(
            ((phrase, name) for name, phrases in self.tables.items() for phrase in phrases),
            key=lambda item: -len(item[0]),
        )

    @classmethod
    def from_training_data(cls, training_data: TrainingData, names: Iterable[Text]) -> "PhraseMatcher":
        wanted = set(names)
        tables: Dict[Text, List[Text]] = {name: [] for name in wanted}
        for table in training_data.lookup_tables:
            if table["name"] in wanted:
                tables[table["name"]].extend(str(e).strip() for e in table["elements"])
        return cls(tables)

    def find(self, text: Text) -> List[PhraseMatch]:
        lowered = text.lower()
        taken = [False] * len(text)
        matches = []
        for phrase, table in self._by_length:
            needle = phrase.lower()
            start = lowered.find(needle)
            while start != -1:
                end = start + len(needle)
                if not any(taken[start:end]):
                    taken[start:end] = [True] * (end - start)
                    matches.append(PhraseMatch(table, text[start:end], start, end))
                start = lowered.find(needle, start + 1)
        return sorted(matches, key=lambda m: m.start)

    def persist(self, model_storage: ModelStorage, resource: Resource) -> None:
        with model_storage.write_to(resource) as directory:
            (directory / PHRASES_FILE).write_text(
                json.dumps(self.tables, ensure_ascii=False), encoding="utf-8"
            )

    @classmethod
    def load(cls, model_storage: ModelStorage, resource: Resource) -> "PhraseMatcher":
        try:
            with model_storage.read_from(resource) as directory:
                return cls(json.loads((directory / PHRASES_FILE).read_text(encoding="utf-8")))
        except ValueError:  # resource missing: the component was never trained
            return cls({})


class LookupTableComponent(GraphComponent):
    """A component that learns phrase lists from lookup tables of the training data.

    Subclasses name the tables in ``table_names`` and use ``self.matcher`` in ``process``.
    """

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        matcher: PhraseMatcher,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self.matcher = matcher

    def table_names(self) -> List[Text]:
        raise NotImplementedError

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LookupTableComponent":
        return cls(config, model_storage, resource, PhraseMatcher({}))

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "LookupTableComponent":
        return cls(config, model_storage, resource, PhraseMatcher.load(model_storage, resource))

    def train(self, training_data: TrainingData) -> Resource:
        self.matcher = PhraseMatcher.from_training_data(training_data, self.table_names())
        self.matcher.persist(self._model_storage, self._resource)
        return self._resource
