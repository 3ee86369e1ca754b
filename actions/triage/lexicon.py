"""The `matter_stage` lexicon of data/nlu/stages.yml, and the one algorithm that reads it.

Plain Python (no Rasa imports). The same code runs in two places:

* in the Rasa server: ``bot.nlu.lookup_extractor.LookupEntityExtractor`` (through ``bot.nlu.phrases``)
  finds the phrases with ``PhraseMatcher`` and resolves them with ``read_phrases``;
  ``EntitySynonymMapper`` then maps each phrase to its value;
* in the action server and the tests: ``StageLexicon.values`` reads a message or a typed answer to the
  stage question with the very same two functions.

Matching (``PhraseMatcher``) takes the longest phrase first over the whole message, never overlapping:
a negated or longer phrase (还没起诉, 判了但是不执行) wins over the phrase it contains (起诉, 判了).

Context (``ContextRules``, the ``negation`` and ``followed_by`` sections of stages.yml: data, not code)
can change the value of a matched phrase:

* negation: a phrase whose value is listed under ``negation.values``, with a cue (没有, 没, 未, 无,
  不是 ...) at most ``window`` characters before it in the same clause, takes the listed value
  (合同里没有约定由仲裁委 → ``no_arbitration_clause``). Other values are never negated by a cue outside
  the phrase, so 没钱，判了也不给 stays ``not_enforced``; negated stages are phrases of their own.
* followed_by: a phrase of one of a rule's ``values`` followed, within ``window`` characters of the same
  message, by one of its ``cues`` takes the rule's ``value`` (法院判了他还我五万，一分钱没见着 →
  ``not_enforced``, not ``judged``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple

import yaml

STAGES_NLU_PATH = Path(__file__).resolve().parents[2] / "data" / "nlu" / "stages.yml"
STAGE_TABLE = "matter_stage"


def _cues(values: Iterable[Any]) -> Tuple[str, ...]:
    cues = tuple(sorted({str(c).strip().lower() for c in values or ()}, key=lambda c: (-len(c), c)))
    if any(not cue for cue in cues):
        raise ValueError("empty cue")
    return cues


def _check_keys(data: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")


# --------------------------------------------------------------------------- context rules ----

@dataclass(frozen=True)
class Negation:
    """Negation cues just before a phrase, and what a negated value becomes."""

    cues: Tuple[str, ...] = ()
    window: int = 0                     # characters allowed between a cue's end and the phrase
    breaks: str = ""                    # clause boundaries: a cue before one of them does not count
    values: Mapping[str, str] = field(default_factory=dict)   # value -> value when negated

    def applies(self, text: str, start: int) -> bool:
        """Whether a cue stands at most ``window`` characters before ``text[start:]``, same clause."""
        if not self.cues:
            return False
        left = text[:start].lower()
        for index in range(len(left) - 1, -1, -1):
            if left[index] in self.breaks:
                left = left[index + 1:]
                break
        return any(cue in left[max(0, len(left) - self.window - len(cue)):] for cue in self.cues)

    def to_dict(self) -> Dict[str, Any]:
        return {"cues": list(self.cues), "window": self.window, "breaks": self.breaks,
                "values": dict(self.values)}

    @classmethod
    def from_dict(cls, data: Optional[Mapping[str, Any]]) -> "Negation":
        if not data:
            return cls()
        _check_keys(data, ("cues", "window", "breaks", "values"), "negation")
        window = int(data.get("window", 0))
        if window < 0:
            raise ValueError("negation: window must be >= 0")
        return cls(cues=_cues(data.get("cues")), window=window, breaks=str(data.get("breaks", "")),
                   values={str(k): str(v) for k, v in (data.get("values") or {}).items()})


@dataclass(frozen=True)
class FollowUp:
    """A phrase of one of ``values`` followed by one of ``cues`` within ``window`` characters: ``value``."""

    values: FrozenSet[str]
    cues: Tuple[str, ...]
    window: int
    value: str

    def applies(self, text: str, end: int) -> bool:
        right = text[end:].lower()
        return any(0 <= right.find(cue) <= self.window for cue in self.cues)

    def to_dict(self) -> Dict[str, Any]:
        return {"values": sorted(self.values), "cues": list(self.cues), "window": self.window,
                "value": self.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "FollowUp":
        _check_keys(data, ("values", "cues", "window", "value"), "followed_by")
        window = int(data["window"])
        if window < 0 or not data.get("values") or not data.get("cues"):
            raise ValueError("followed_by: needs values, cues and a window >= 0")
        return cls(frozenset(str(v) for v in data["values"]), _cues(data["cues"]), window,
                   str(data["value"]))


@dataclass(frozen=True)
class ContextRules:
    """What the words around a matched phrase do to its value (negation first, then follow-ups)."""

    negation: Negation = field(default_factory=Negation)
    followed_by: Tuple[FollowUp, ...] = ()

    def resolve(self, value: str, text: str, start: int, end: int) -> str:
        if value in self.negation.values and self.negation.applies(text, start):
            return self.negation.values[value]
        for rule in self.followed_by:
            if value in rule.values and rule.applies(text, end):
                return rule.value
        return value

    def to_dict(self) -> Dict[str, Any]:
        return {"negation": self.negation.to_dict(),
                "followed_by": [rule.to_dict() for rule in self.followed_by]}

    @classmethod
    def from_dict(cls, data: Optional[Mapping[str, Any]]) -> "ContextRules":
        data = data or {}
        _check_keys(data, ("negation", "followed_by"), "context rules")
        return cls(Negation.from_dict(data.get("negation")),
                   tuple(FollowUp.from_dict(rule) for rule in data.get("followed_by") or ()))


NO_RULES = ContextRules()


# --------------------------------------------------------------------------- matcher ----------

@dataclass(frozen=True)
class PhraseMatch:
    table: str
    phrase: str          # the text as written in the message
    start: int
    end: int


class PhraseMatcher:
    """Finds non-overlapping phrases of named lookup tables, longest match first.

    Longest-first lets a negated phrase (还没起诉) win over the phrase it contains (起诉). Phrases of
    equal length are tried in alphabetical order; matching ignores case.
    """

    def __init__(self, tables: Mapping[str, Iterable[str]]) -> None:
        self.tables: Dict[str, List[str]] = {
            name: sorted(set(str(p).strip() for p in phrases if p and str(p).strip()))
            for name, phrases in tables.items()
        }
        self._by_length = sorted(
            ((phrase, name) for name, phrases in self.tables.items() for phrase in phrases),
            key=lambda item: -len(item[0]),
        )

    def find(self, text: str) -> List[PhraseMatch]:
        text = text or ""
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


@dataclass(frozen=True)
class PhraseReading:
    match: PhraseMatch
    value: str           # the phrase's value after the context rules
    by_context: bool     # whether a context rule changed it (negation, follow-up)


def read_phrases(text: str, matcher: PhraseMatcher, synonyms: Mapping[str, str],
                 rules: Optional[Mapping[str, ContextRules]] = None) -> List[PhraseReading]:
    """Every phrase of ``text`` with its value: its synonym group, changed by the table's context rules.

    ``synonyms`` maps a phrase (or its lower-case form) to its value; a phrase without one is its own
    value. ``rules`` maps a table name to its context rules.
    """
    text = text or ""
    readings = []
    for match in matcher.find(text):
        plain = synonyms.get(match.phrase, synonyms.get(match.phrase.lower(), match.phrase))
        value = (rules or {}).get(match.table, NO_RULES).resolve(plain, text, match.start, match.end)
        readings.append(PhraseReading(match, value, value != plain))
    return readings


# --------------------------------------------------------------------------- stage lexicon ----

@dataclass(frozen=True)
class StageLexicon:
    """The `matter_stage` lookup table, synonyms and context rules of data/nlu/stages.yml."""

    phrases: Tuple[str, ...]            # lookup order (longest first, as in the file)
    synonyms: Dict[str, str]            # phrase -> stage or modifier value
    rules: ContextRules = NO_RULES
    matcher: PhraseMatcher = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "matcher", PhraseMatcher({STAGE_TABLE: self.phrases}))

    def read(self, text: str) -> List[PhraseReading]:
        return read_phrases(text, self.matcher, self.synonyms, {STAGE_TABLE: self.rules})

    def values(self, text: str) -> List[str]:
        """The `matter_stage` values the NLU extracts from ``text``, in order."""
        return [reading.value for reading in self.read(text)]


def _examples(block: str) -> List[str]:
    return [line.strip()[2:].strip() for line in block.splitlines()
            if line.strip().startswith("- ")]


def _read(path: Path | str) -> Mapping[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def context_rules(data: Mapping[str, Any]) -> ContextRules:
    """The context rules of a loaded stages file (Rasa's reader ignores these top-level keys)."""
    return ContextRules.from_dict({key: data[key] for key in ("negation", "followed_by") if key in data})


def load_context_rules(path: Path | str = STAGES_NLU_PATH) -> ContextRules:
    return context_rules(_read(path))


def load_lexicon(path: Path | str = STAGES_NLU_PATH) -> StageLexicon:
    data = _read(path)
    phrases: List[str] = []
    synonyms: Dict[str, str] = {}
    for item in data.get("nlu", []):
        if item.get("lookup") == STAGE_TABLE:
            phrases.extend(_examples(item["examples"]))
        elif "synonym" in item:
            for phrase in _examples(item["examples"]):
                synonyms[phrase] = str(item["synonym"])
    return StageLexicon(tuple(phrases), synonyms, context_rules(data))


@lru_cache(maxsize=1)
def get_lexicon() -> StageLexicon:
    return load_lexicon()


def normalise_answer(text: str) -> str:
    return re.sub(r"[\s,，.。!！?？~～、…]+", "", text or "")


__all__: Sequence[str] = (
    "STAGES_NLU_PATH", "STAGE_TABLE", "ContextRules", "FollowUp", "Negation", "PhraseMatch",
    "PhraseMatcher", "PhraseReading", "StageLexicon", "context_rules", "get_lexicon",
    "load_context_rules", "load_lexicon", "normalise_answer", "read_phrases",
)
