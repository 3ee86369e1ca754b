"""Crisis language in a message: what it says, what cancels it, and where it is (plain Python).

The phrases are data that the bureau reviews, in two files:

* ``data/nlu/crisis_terms.yml``: the ``crisis_terms`` lookup table, phrases that are crisis language
  on their own (不想活, 跳楼, 同归于尽 …);
* ``data/crisis/lexicon.yml``: what refines them: phrases with gaps (``活着…没…意思``), named word
  groups (``{决意}喝药``), spellings and dialect words that count as the same word (冒得 = 没,
  啥子 = 什么), figures of speech that look like crisis language but are not (累死了, 跳楼价,
  出了事…负责), and negation cues (我又没说要寻死, 我不会自杀的).

This module turns them into a :class:`CrisisMatcher`. ``assess(text)`` gives a :class:`CrisisVerdict`:
the crisis phrases found and not cancelled (``hits``), and what was found but cancelled by a negation
or a figure of speech (``cleared``). The Rasa component (``bot/nlu/crisis.py``) and the channels'
message guard (``bot/guard.py``, which checks crisis language before refusing an over-long message)
are thin users of it; its behaviour is measured on ``tests/nlu/crisis_set.yml``.

How a message is read:

1. Characters are folded one for one (full-width to half-width, A-Z to a-z, the traditional forms in
   the lexicon's ``char_folds``), so positions in the folded text are positions in the message. Then
   slips of the pinyin keyboard are repaired, also one for one: a run of characters that sounds
   exactly like a crisis term of three or more syllables (和农药 for 喝农药, 铜归于尽 for 同归于尽;
   toneless pinyin, ``pypinyin``) is read as that term. Two-syllable terms are left out: 紫砂 is not
   自杀.
2. Every phrase, pattern, figure and signal is compiled to a regular expression: ``…`` is a gap of up
   to ``max_gap`` characters that crosses no comma or sentence end, ``{name}`` one word of a group,
   and a word with ``variants`` any of its spellings.
3. A figure of speech cancels a crisis match when it overlaps one of the match's words, unless it is a
   shorter piece inside that word (跳楼价 cancels 跳楼; 干活 cancels the 活了 of 不想…活了; 出人命
   does not cancel 闹出人命).
4. A crisis match is negated by a cue shortly before it in the same clause (没说要, 不会, 从没想过 …),
   by a one-character negator right before it (不想死, 没想不开), or by a cue shortly after it
   (寻死那种事我是不会干的, 自杀？不可能). A blocker between cue and match undoes the negation
   (别逼我跳楼), and a cue that is part of another crisis phrase does not count.
5. Signals are weaker cues (绳子, 过不下去, 消失, 你们看着办): two of kinds that ``signal_pairs`` pairs,
   in one sentence, make crisis language (日子过不下去了，想找根绳子).
"""

from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Text, Tuple

import yaml

from bot.nlu.pinyin import syllables

ROOT = Path(__file__).resolve().parents[2]
TERMS_PATH = ROOT / "data" / "nlu" / "crisis_terms.yml"
LEXICON_PATH = ROOT / "data" / "crisis" / "lexicon.yml"
TERMS_TABLE = "crisis_terms"

GAP = "…"
# Long texts are read in pieces of _PIECE characters, each with _MARGIN characters of its neighbours.
_PIECE = 4000
_MARGIN = 200
SIGNAL = "signal:"  # the kind of a signal's match: signal:despair, signal:means …
# A gap never crosses a comma or the end of a sentence.
_SENTENCE_END = "，,。！!？?；;\n\r"
# Negation cues before a phrase are looked for in its own clause only.
_CLAUSE_BOUNDARY = set("，,。.！!？?；;：:\n\r\t 、…~～()（）")
# After a phrase, a question mark or a space does not end the clause: 自杀？不可能.
_AFTER_BOUNDARY = _CLAUSE_BOUNDARY - set("？? ")
_GROUP = re.compile(r"\{([^{}]+)\}")

# One for one: full-width ASCII to ASCII, ideographic space to space, A-Z to a-z.
_WIDTH_FOLDS = {0xFF01 + i: 0x21 + i for i in range(94)}
_WIDTH_FOLDS[0x3000] = 0x20
_CASE_FOLDS = {ord(c): ord(c.lower()) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
# Sound-alike repair: only terms this long, and only Chinese characters (see step 1 above).
_MIN_SOUND_SYLLABLES = 3
_HANZI = re.compile(r"^[\u4e00-\u9fff]+$")


def _sound(char: Text) -> Text:
    """The toneless pinyin of one character, or the character itself when it is not Chinese."""
    return syllables(char) if _HANZI.match(char) else char


@dataclass(frozen=True)
class CrisisMatch:
    """A lexicon entry found in a message: ``start``/``end`` index the message itself."""

    entry: Text  # the phrase or pattern as the lexicon writes it
    kind: Text  # "crisis" or "figure"
    text: Text  # what the message says there
    start: int
    end: int
    cancelled_by: Optional[Text] = None  # the negation cue or figure of speech that cancels it


@dataclass(frozen=True)
class CrisisVerdict:
    hits: Tuple[CrisisMatch, ...]  # crisis language, not cancelled
    cleared: Tuple[CrisisMatch, ...]  # crisis language negated or taken as a figure, and figures

    @property
    def crisis(self) -> bool:
        return bool(self.hits)

    def __bool__(self) -> bool:
        return self.crisis


@dataclass(frozen=True)
class _Entry:
    source: Text
    kind: Text
    regex: "re.Pattern[str]"
    required: Tuple[Text, ...]  # each spelling of one literal word the entry needs (fast pre-check)


class CrisisLexicon:
    """The reviewed data as plain values: what the Rasa component stores in the model."""

    def __init__(self, terms: Iterable[Text], refinements: Mapping[Text, Any]) -> None:
        self.terms = sorted({str(t).strip() for t in terms if str(t).strip()})
        self.refinements = dict(refinements)

    @classmethod
    def load(cls, terms_path: Path | Text = TERMS_PATH, lexicon_path: Path | Text = LEXICON_PATH) -> "CrisisLexicon":
        return cls(read_lookup_table(terms_path, TERMS_TABLE), read_refinements(lexicon_path))

    def to_dict(self) -> Dict[Text, Any]:
        return {"terms": self.terms, "refinements": self.refinements}

    @classmethod
    def from_dict(cls, data: Mapping[Text, Any]) -> "CrisisLexicon":
        return cls(data.get("terms", []), data.get("refinements", {}))


def read_lookup_table(path: Path | Text, name: Text) -> List[Text]:
    """The elements of lookup table ``name`` in a Rasa NLU YAML file."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    elements: List[Text] = []
    for item in data.get("nlu", []):
        if isinstance(item, dict) and item.get("lookup") == name:
            examples = item.get("examples", "")
            if isinstance(examples, str):
                elements += [line.strip()[1:].strip() for line in examples.splitlines() if line.strip().startswith("-")]
            else:
                elements += [str(e).strip() for e in examples]
    if not elements:
        raise ValueError(f"{path}: no lookup table {name!r}")
    return elements


def read_refinements(path: Path | Text) -> Dict[Text, Any]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping")
    return data


class CrisisMatcher:
    """Finds crisis language in a message (see the module's docstring)."""

    def __init__(self, lexicon: CrisisLexicon) -> None:
        self.lexicon = lexicon
        r = lexicon.refinements
        self.max_gap = int(r.get("max_gap", 8))
        self.before_window = int(r.get("negation_window_before", 6))
        self.after_window = int(r.get("negation_window_after", 6))
        self._fold = {**_WIDTH_FOLDS, **_CASE_FOLDS, **_char_folds(r.get("char_folds", ""))}
        self._variants = {self.fold(k): [self.fold(v) for v in vs] for k, vs in (r.get("variants") or {}).items()}
        self._groups = {name: [str(w) for w in words] for name, words in (r.get("groups") or {}).items()}
        self._entries: List[_Entry] = []
        for phrase in lexicon.terms + list(r.get("patterns") or []):
            self._entries.append(self._compile(str(phrase), "crisis"))
        for phrase in r.get("figures") or []:
            self._entries.append(self._compile(str(phrase), "figure"))
        signals = r.get("signals") or {}
        for kind, phrases in signals.items():
            for phrase in phrases or []:
                self._entries.append(self._compile(str(phrase), f"{SIGNAL}{kind}"))
        self._signal_pairs = [tuple(pair) for pair in r.get("signal_pairs") or []]
        for pair in self._signal_pairs:
            if len(pair) != 2 or not set(pair) <= set(signals):
                raise ValueError(f"crisis lexicon: signal_pairs wants two kinds of `signals`, not {pair!r}")
        # Crisis terms by their sounds; and, per first syllable, the lengths of the terms that start
        # with it, so that a message is only searched where a term could begin.
        self._sounds: Dict[Tuple[Text, ...], Text] = {}
        self._lengths_by_first_sound: Dict[Text, set] = {}
        for term in lexicon.terms:
            term = self.fold(str(term))
            if len(term) >= _MIN_SOUND_SYLLABLES and _HANZI.match(term):
                sounds = tuple(_sound(c) for c in term)
                self._sounds[sounds] = term
                self._lengths_by_first_sound.setdefault(sounds[0], set()).add(len(term))
        self._negators = set(self.fold("".join(r.get("negators_immediate") or [])))
        self._cues_before = self._alternation(r.get("negations_before") or [])
        self._cues_after = self._alternation(r.get("negations_after") or [])
        self._blockers_before = self._alternation(r.get("negation_blockers_before") or [])
        self._blockers_after = self._alternation(r.get("negation_blockers_after") or [])

    @classmethod
    def from_files(cls, terms_path: Path | Text = TERMS_PATH, lexicon_path: Path | Text = LEXICON_PATH) -> "CrisisMatcher":
        return cls(CrisisLexicon.load(terms_path, lexicon_path))

    # ------------------------------------------------------------------ reading a message

    def fold(self, text: Text) -> Text:
        """``text`` folded one character for one (positions are kept)."""
        return text.translate(self._fold)

    def repair_sound_alikes(self, folded: Text) -> Text:
        """Runs that sound like a crisis term read as the term, one character for one."""
        if not self._sounds or not any("\u4e00" <= c <= "\u9fff" for c in folded):
            return folded
        sounds = [_sound(c) for c in folded]
        chars = list(folded)
        for start, sound in enumerate(sounds):
            for length in self._lengths_by_first_sound.get(sound, ()):
                term = self._sounds.get(tuple(sounds[start:start + length]))
                if term is not None:
                    chars[start:start + length] = term
        return "".join(chars)

    def assess(self, text: Text, first_only: bool = False) -> CrisisVerdict:
        """What ``text`` says (see the module's docstring). With ``first_only``, stops at the first
        crisis phrase found (for the channels, which only need to know whether there is one)."""
        folded = self.repair_sound_alikes(self.fold(text))
        crisis: List[Tuple[CrisisMatch, List[Tuple[int, int]]]] = []
        figures: List[CrisisMatch] = []
        for entry in self._entries:
            if entry.required and not any(word in folded for word in entry.required):
                continue
            for m in entry.regex.finditer(folded):
                if m.end() == m.start():
                    continue
                match = CrisisMatch(entry.source, entry.kind, text[m.start():m.end()], m.start(), m.end())
                if entry.kind == "figure":
                    figures.append(match)
                else:
                    words = [m.span(i) for i in range(1, (m.re.groups or 0) + 1) if m.span(i)[0] >= 0]
                    crisis.append((match, words or [m.span()]))
        figures.sort(key=lambda f: f.start)
        figure_starts = [f.start for f in figures]
        longest_figure = max((f.end - f.start for f in figures), default=0)
        crisis.sort(key=lambda item: (item[0].start, -item[0].end))
        spans = sorted((m.start, m.end) for m, _ in crisis if not m.kind.startswith(SIGNAL))
        hits: List[CrisisMatch] = []
        cleared: List[CrisisMatch] = list(figures)
        signals: List[CrisisMatch] = []
        for match, words in crisis:
            reason = (self._figure_over(words, figures, figure_starts, longest_figure)
                      or self._negation(folded, match.start, match.end, spans))
            if reason:
                cleared.append(_cancelled(match, reason))
            elif match.kind.startswith(SIGNAL):
                signals.append(match)
            else:
                hits.append(match)
                if first_only:
                    break
        if not (first_only and hits):
            hits += self._paired(text, signals)
        key = lambda m: (m.start, -m.end)  # noqa: E731
        return CrisisVerdict(tuple(sorted(hits, key=key)), tuple(sorted(cleared, key=key)))

    def is_crisis(self, text: Text) -> bool:
        return self.first_hit(text) is not None

    def first_hit(self, text: Text) -> Optional[CrisisMatch]:
        """The first crisis phrase of ``text``, or None. A long text is read in pieces, each with
        enough of its neighbours for the negation cues, and reading stops at the first piece with one:
        a message of 300,000 characters costs what its first pieces cost."""
        if len(text) <= _PIECE + 2 * _MARGIN:
            verdict = self.assess(text, first_only=True)
            return verdict.hits[0] if verdict.hits else None
        for start in range(0, len(text), _PIECE):
            low, high = max(0, start - _MARGIN), min(len(text), start + _PIECE + _MARGIN)
            for hit in self.assess(text[low:high]).hits:
                if start <= low + hit.start < start + _PIECE:
                    return CrisisMatch(hit.entry, hit.kind, hit.text, low + hit.start, low + hit.end)
        return None

    def excerpt(self, text: Text, max_chars: int) -> Optional[Text]:
        """The part of a message around its first crisis phrase, at most ``max_chars`` characters:
        whole sentences around it while they fit, else a window centred on it. None without one."""
        hit = self.first_hit(text)
        if hit is None:
            return None
        if len(text) <= max_chars:
            return text
        start, end = _sentence_bounds(text, hit.start, hit.end)
        if end - start > max_chars:
            middle = (hit.start + hit.end) // 2
            start = max(0, min(middle - max_chars // 2, len(text) - max_chars))
            return text[start:start + max_chars]
        while True:  # grow by whole sentences, before then after, while it fits
            grown = False
            if start > 0:
                before, _ = _sentence_bounds(text, start - 1, start)
                if end - before <= max_chars:
                    start, grown = before, True
            if end < len(text):
                _, after = _sentence_bounds(text, end, end + 1)
                if after - start <= max_chars:
                    end, grown = after, True
            if not grown:
                return text[start:end].strip() or text[start:end]

    def _paired(self, text: Text, signals: Sequence[CrisisMatch]) -> List[CrisisMatch]:
        """Crisis language made of two signals of kinds that ``signal_pairs`` pairs, in one sentence
        (过不下去 … 绳子; 累赘 … 消失)."""
        found: List[CrisisMatch] = []
        for first in signals:
            for second in signals:
                if second.start <= first.start or (first.kind[len(SIGNAL):], second.kind[len(SIGNAL):]) not in self._pairs():
                    continue
                sentence_start, sentence_end = _sentence_bounds(text, first.start, first.end)
                if second.end <= sentence_end:
                    found.append(CrisisMatch(f"{first.entry} + {second.entry}", "crisis",
                                             text[first.start:second.end], first.start, second.end))
        return found

    def _pairs(self) -> set:
        return {pair for p in self._signal_pairs for pair in (tuple(p), tuple(reversed(p)))}

    # ------------------------------------------------------------------ cancelling

    @staticmethod
    def _figure_over(words: Sequence[Tuple[int, int]], figures: Sequence[CrisisMatch],
                     figure_starts: Sequence[int], longest_figure: int) -> Optional[Text]:
        """The figure of speech that cancels a crisis match: one that overlaps one of its words and is
        not a shorter piece inside that word (出人命 does not cancel 闹出人命)."""
        for start, end in words:
            first = bisect.bisect_left(figure_starts, start - longest_figure)
            last = bisect.bisect_left(figure_starts, end)
            for figure in figures[first:last]:
                overlaps = figure.start < end and start < figure.end
                inside = start <= figure.start and figure.end <= end and figure.end - figure.start < end - start
                if overlaps and not inside:
                    return figure.entry
        return None

    def _negation(self, folded: Text, start: int, end: int, spans: Sequence[Tuple[int, int]]) -> Optional[Text]:
        """The cue that negates the crisis match at ``start``–``end``; a cue that is part of another
        crisis phrase (the 不想 of an earlier 不想活了) does not count."""
        if start > 0 and folded[start - 1] in self._negators:
            return folded[start - 1]
        window_start = start
        while window_start > 0 and start - window_start < self.before_window and folded[window_start - 1] not in _CLAUSE_BOUNDARY:
            window_start -= 1
        before = folded[window_start:start]
        if self._cues_before and before:
            cues = [c for c in self._cues_before.finditer(before)
                    if not _inside_any(window_start + c.start(), window_start + c.end(), spans)]
            if cues:
                cue = cues[-1]
                between = before[cue.end():]
                if not (self._blockers_before and self._blockers_before.search(between)):
                    return cue.group(0)
        window_end = end
        while window_end < len(folded) and window_end - end < self.after_window and folded[window_end] not in _AFTER_BOUNDARY:
            window_end += 1
        after = folded[end:window_end]
        if self._cues_after and after:
            cue = next((c for c in self._cues_after.finditer(after)
                        if not _inside_any(end + c.start(), end + c.end(), spans)), None)
            if cue and not (self._blockers_after and self._blockers_after.search(after)):
                return cue.group(0)
        return None

    # ------------------------------------------------------------------ compiling the lexicon

    def _alternation(self, words: Iterable[Text]) -> Optional["re.Pattern[str]"]:
        parts = sorted({self._expand(str(w)) for w in words if str(w)}, key=len, reverse=True)
        return re.compile("|".join(parts)) if parts else None

    def _compile(self, phrase: Text, kind: Text) -> _Entry:
        pieces = [p for p in self.fold(phrase).split(GAP)]
        if any(not p for p in pieces):
            raise ValueError(f"crisis lexicon: {phrase!r} starts, ends or has two gaps in a row")
        gap = f"[^{re.escape(_SENTENCE_END)}]{{0,{self.max_gap}}}?"
        regex = gap.join(f"({self._expand(p)})" for p in pieces)
        try:
            compiled = re.compile(regex)
        except re.error as error:
            raise ValueError(f"crisis lexicon: {phrase!r} does not compile: {error}") from error
        return _Entry(phrase, kind, compiled, self._required(pieces))

    def _expand(self, piece: Text) -> Text:
        """A regular expression for one word of an entry: groups and variants spelled out."""
        out: List[Text] = []
        i = 0
        keys = sorted(self._variants, key=len, reverse=True)
        while i < len(piece):
            group = _GROUP.match(piece, i)
            if group:
                name = group.group(1)
                if name not in self._groups:
                    raise ValueError(f"crisis lexicon: unknown group {{{name}}} in {piece!r}")
                words = sorted({self._expand(self.fold(w)) for w in self._groups[name]}, key=len, reverse=True)
                out.append("(?:" + "|".join(words) + ")")
                i = group.end()
                continue
            key = next((k for k in keys if piece.startswith(k, i)), None)
            if key:
                spellings = sorted({key, *self._variants[key]}, key=len, reverse=True)
                out.append("(?:" + "|".join(re.escape(s) for s in spellings) + ")")
                i += len(key)
                continue
            out.append(re.escape(piece[i]))
            i += 1
        return "".join(out)

    def _required(self, pieces: Sequence[Text]) -> Tuple[Text, ...]:
        """The longest plain stretch of characters an entry needs: without it in the message, the
        entry cannot match (keeps very long messages cheap). Empty when there is none."""
        keys = sorted(self._variants, key=len, reverse=True)
        splitter = re.compile("|".join(re.escape(k) for k in keys)) if keys else None
        best = ""
        for piece in pieces:
            for run in _GROUP.split(piece)[::2]:  # the text between {groups}
                for fragment in splitter.split(run) if splitter else [run]:
                    if len(fragment) > len(best):
                        best = fragment
        return (best,) if best else ()


def _char_folds(spec: Any) -> Dict[int, int]:
    """``"殺杀 樓楼"`` (pairs: the form typed, the form in the lexicon) as a translate table."""
    folds: Dict[int, int] = {}
    for pair in str(spec or "").split():
        if len(pair) != 2:
            raise ValueError(f"crisis lexicon: char_folds wants pairs of two characters, not {pair!r}")
        folds[ord(pair[0])] = ord(pair[1])
    return folds


def _inside_any(start: int, end: int, spans: Sequence[Tuple[int, int]]) -> bool:
    """Whether ``start``–``end`` overlaps one of ``spans`` (sorted by start)."""
    i = bisect.bisect_right(spans, (end, end))
    while i > 0:
        i -= 1
        span_start, span_end = spans[i]
        if span_end > start and span_start < end:
            return True
        if span_start < start - 64:  # spans are short: nothing further left can reach
            return False
    return False


def _cancelled(match: CrisisMatch, reason: Text) -> CrisisMatch:
    return CrisisMatch(match.entry, match.kind, match.text, match.start, match.end, reason)


def _sentence_bounds(text: Text, start: int, end: int) -> Tuple[int, int]:
    ends = "。！？!?\n"
    left = start
    while left > 0 and text[left - 1] not in ends:
        left -= 1
    right = end
    while right < len(text) and text[right - 1] not in ends:
        right += 1
    return left, right


@lru_cache(maxsize=1)
def default_matcher() -> CrisisMatcher:
    """The matcher of the reviewed files in this checkout (what the channels use)."""
    return CrisisMatcher.from_files()


def lexicon_fingerprint(terms_path: Path | Text = TERMS_PATH, lexicon_path: Path | Text = LEXICON_PATH) -> Text:
    """A digest of the two files, or ``"missing"``: part of the Rasa component's configuration, so that
    Rasa's training cache retrains it when only ``data/crisis/lexicon.yml`` changed."""
    digest = hashlib.sha256()
    for path in (terms_path, lexicon_path):
        try:
            digest.update(Path(path).read_bytes())
        except OSError:
            return "missing"
    return digest.hexdigest()[:16]
