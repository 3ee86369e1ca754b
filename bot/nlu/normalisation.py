"""What the classifier reads: dialect, internet spellings, slips, emoji and repeated punctuation evened out.

Plain Python (no Rasa), so that it can be read and tested on its own. The reviewed pairs live in
``data/normalisation/lexicon.yml``; this module only applies them, longest first, plus two rules that are
not word pairs: emoji that are not in the lexicon are dropped, and a run of the same punctuation mark
(！！！, ？？？, 。。。) becomes one.

The result keeps, for every character of the normalised text, the span of the original text it came
from, so that tokens can carry the original offsets: entities are still cut from what the citizen
typed, and the tracker keeps the original message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Text, Tuple

import yaml

KINDS = ("dialect", "internet", "slip", "emoji")

# Pictographs, symbols and their joiners; a lexicon entry takes precedence (👍 → 好).
_EMOJI = (
    "\U0001F000-\U0001FAFF"  # mahjong to symbols and pictographs extended-A (incl. emoticons)
    "\u2600-\u27BF"  # miscellaneous symbols, dingbats
    "\u2B00-\u2BFF"  # arrows and stars
    "\uFE0F\u200D\u20E3"  # variation selector, zero-width joiner, keycap
)
# A run of the same mark or emoji says it once, louder: 🙏🙏🙏 is 🙏, ！！！ is ！.
_REPEATED = re.compile(rf"([!?！？。，,.~～…、{_EMOJI}])\1+")


@dataclass(frozen=True)
class Normalised:
    """The normalised text and, per character, the (start, end) it stands for in the original."""

    text: Text
    spans: Tuple[Tuple[int, int], ...]

    def original_span(self, start: int, end: int) -> Tuple[int, int]:
        """The original (start, end) of the normalised characters ``start``..``end - 1``."""
        return self.spans[start][0], self.spans[end - 1][1]


class Normaliser:
    """Applies reviewed (typed → standard) pairs, longest match first, and the emoji/punctuation rules."""

    def __init__(self, pairs: Mapping[Text, Text]) -> None:
        self.pairs: Dict[Text, Text] = {_key(source): target for source, target in pairs.items()}
        alternatives = [_pattern(source) for source in sorted(pairs, key=len, reverse=True)]
        alternatives += [f"[{_EMOJI}]+"]
        self._pattern = re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)

    @classmethod
    def from_entries(cls, entries: Iterable[Mapping[Text, Text]]) -> "Normaliser":
        return cls({entry["from"]: entry["to"] for entry in entries})

    def normalise(self, text: Text) -> Normalised:
        once = _substitute(text, _REPEATED, lambda found: found[0])
        standard = _substitute(once.text, self._pattern, self._replacement)
        # Compose: each character of the result points through the first pass to the original.
        spans = tuple((once.spans[start][0], once.spans[end - 1][1]) for start, end in standard.spans)
        return Normalised(standard.text, spans)

    def _replacement(self, found: Text) -> Text:
        # Emoji without a lexicon entry carry no meaning the classifier could use.
        return self.pairs.get(_key(found), "")


def _substitute(text: Text, pattern: "re.Pattern[str]", replace) -> Normalised:
    """``pattern.sub(replace, text)`` that also records where each output character came from."""
    out: List[Text] = []
    spans: List[Tuple[int, int]] = []
    position = 0
    for match in pattern.finditer(text):
        for index in range(position, match.start()):
            out.append(text[index])
            spans.append((index, index + 1))
        replacement = replace(match.group())
        out.append(replacement)
        spans += [(match.start(), match.end())] * len(replacement)
        position = match.end()
    for index in range(position, len(text)):
        out.append(text[index])
        spans.append((index, index + 1))
    return Normalised("".join(out), tuple(spans))


def load_entries(path: Path | Text) -> List[Dict[Text, Text]]:
    """The lexicon's entries, checked: known kind, no empty side, no source listed twice."""
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    entries = document.get("entries") or []
    seen = set()
    for entry in entries:
        source, target, kind = entry.get("from"), entry.get("to"), entry.get("kind")
        if not source or target is None or kind not in KINDS:
            raise ValueError(f"{path}: incomplete or unknown entry {entry!r}")
        if _key(source) in seen:
            raise ValueError(f"{path}: {source!r} is listed twice")
        seen.add(_key(source))
    return [{"from": str(e["from"]), "to": str(e["to"]), "kind": e["kind"]} for e in entries]


def _key(source: Text) -> Text:
    return source.lower()


def _pattern(source: Text) -> Text:
    escaped = re.escape(source)
    if source.isascii():
        # ASCII abbreviations only as whole words: zf不管 but not a booking code or a URL.
        return f"(?<![A-Za-z0-9]){escaped}(?![A-Za-z0-9])"
    return escaped
