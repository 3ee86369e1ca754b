"""Longest-match phrase lookup shared by the NLU components that read lookup tables.

The algorithm is ``actions.triage.lexicon`` (plain Python): ``PhraseMatcher`` finds the phrases and
``read_phrases`` resolves them with the context rules (negation, follow-ups) of their table. The action
server reads the stage lexicon with the very same two functions, so what Rasa extracts and what the
action server reads from a typed answer cannot drift apart. This module adds what Rasa needs around
them: learning the phrase lists from the training data's lookup tables and keeping them, with the
synonyms and rules they need, in the model.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Mapping, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.training_data import TrainingData

from actions.triage.lexicon import (  # noqa: F401 (PhraseMatch is re-exported)
    ContextRules,
    PhraseMatch,
    PhraseMatcher,
    PhraseReading,
    read_phrases,
)

PHRASES_FILE = "phrases.json"


def tables_from_training_data(training_data: TrainingData, names: Iterable[Text]) -> Dict[Text, List[Text]]:
    wanted = set(names)
    tables: Dict[Text, List[Text]] = {name: [] for name in wanted}
    for table in training_data.lookup_tables:
        if table["name"] in wanted:
            tables[table["name"]].extend(str(e).strip() for e in table["elements"])
    return tables


class LookupTableComponent(GraphComponent):
    """A component that learns phrase lists from lookup tables of the training data.

    Subclasses name the tables in ``table_names`` and use ``self.matcher`` (or ``self.read``) in
    ``process``. Those that resolve values with context rules return them from ``context_rules``.
    """

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        matcher: PhraseMatcher,
        synonyms: Optional[Mapping[Text, Text]] = None,
        rules: Optional[Mapping[Text, ContextRules]] = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self.matcher = matcher
        self.synonyms: Dict[Text, Text] = dict(synonyms or {})      # phrases that have rules only
        self.rules: Dict[Text, ContextRules] = dict(rules or {})

    def table_names(self) -> List[Text]:
        raise NotImplementedError

    def context_rules(self, training_data: TrainingData) -> Dict[Text, ContextRules]:
        """Context rules per table; none unless a subclass reads them."""
        return {}

    def read(self, text: Text) -> List[PhraseReading]:
        return read_phrases(text, self.matcher, self.synonyms, self.rules)

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
        try:
            with model_storage.read_from(resource) as directory:
                data = json.loads((directory / PHRASES_FILE).read_text(encoding="utf-8"))
        except ValueError:  # resource missing: the component was never trained
            return cls(config, model_storage, resource, PhraseMatcher({}))
        if "tables" not in data:  # a model trained before rules existed: the tables alone
            return cls(config, model_storage, resource, PhraseMatcher(data))
        rules = {name: ContextRules.from_dict(r) for name, r in (data.get("rules") or {}).items()}
        return cls(config, model_storage, resource, PhraseMatcher(data["tables"]),
                   data.get("synonyms") or {}, rules)

    def train(self, training_data: TrainingData) -> Resource:
        self.matcher = PhraseMatcher(tables_from_training_data(training_data, self.table_names()))
        self.rules = {name: rules for name, rules in self.context_rules(training_data).items()
                      if name in self.matcher.tables}
        # The rules act on values: keep the synonym of every phrase of a table that has rules.
        synonyms = {str(k).lower(): str(v) for k, v in training_data.entity_synonyms.items()}
        self.synonyms = {phrase.lower(): synonyms[phrase.lower()]
                         for name in self.rules for phrase in self.matcher.tables[name]
                         if phrase.lower() in synonyms}
        with self._model_storage.write_to(self._resource) as directory:
            (directory / PHRASES_FILE).write_text(json.dumps({
                "tables": self.matcher.tables,
                "synonyms": self.synonyms,
                "rules": {name: rules.to_dict() for name, rules in self.rules.items()},
            }, ensure_ascii=False), encoding="utf-8")
        return self._resource
