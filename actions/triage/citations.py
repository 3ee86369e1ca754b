"""Citations of the triage rules and the allow-list they are checked against.

A citation is written as ``《信访工作条例》第三十一条`` (optionally followed by ``第一款`` /
``第一项``), or as a bare title such as ``《人民调解法》`` where ``sources.yml`` allows the law
to be cited as a whole. Inside rule texts an article without a title (``第三十一条``) means
《信访工作条例》.

Each allowed article carries the keywords of what it says; ``check_claims`` holds every sentence
that cites an article against them, so an article cited for something it does not say is caught.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Optional, Tuple

import yaml

SOURCES_PATH = Path(__file__).resolve().parent / "sources.yml"
PETITION_REGULATION = "信访工作条例"

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
           "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}

_NUM = "[零〇一二两三四五六七八九十百千]+"
CITATION_RE = re.compile(
    rf"^《(?P<law>[^《》]+)》(?:第(?P<article>{_NUM})条(?:第{_NUM}款)?(?:第{_NUM}项)?)?$"
)
# An article named inside running text, with or without a title right before it.
INLINE_RE = re.compile(rf"(?:《(?P<law>[^《》]+)》)?第(?P<article>{_NUM})条")


class CitationError(ValueError):
    """A citation that is malformed or not in the allow-list."""


def cn_to_int(text: str) -> int:
    """Chinese numerals as used in article numbers: 三十一 -> 31, 五百六十三 -> 563, 十一 -> 11."""
    if not text or any(ch not in _DIGITS and ch not in _UNITS for ch in text):
        raise CitationError(f"not a Chinese number: {text!r}")
    total, digit = 0, None
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        else:
            total += (1 if digit is None else digit) * _UNITS[ch]
            digit = None
    return total + (digit or 0)


def int_to_cn(number: int) -> str:
    """31 -> 三十一, 11 -> 十一, 563 -> 五百六十三, 20 -> 二十, 105 -> 一百零五."""
    if not 0 < number < 1000:
        raise ValueError(number)
    names = "零一二三四五六七八九"
    hundreds, rest = divmod(number, 100)
    tens, ones = divmod(rest, 10)
    out = ""
    if hundreds:
        out += names[hundreds] + "百"
        if tens == 0 and ones:
            out += "零"
    if tens:
        out += ("" if tens == 1 and not hundreds else names[tens]) + "十"
    if ones:
        out += names[ones]
    return out


@dataclass(frozen=True)
class Citation:
    law: str                 # canonical title, without 《》
    article: Optional[int]   # None: the law as a whole


@dataclass(frozen=True)
class AllowList:
    articles: Dict[str, FrozenSet[int]]
    whole_law: FrozenSet[str]
    aliases: Dict[str, str]          # any accepted title -> canonical title
    forbidden: FrozenSet[str]
    keywords: Dict[Citation, Tuple[str, ...]] = field(default_factory=dict)
    says: Dict[Citation, str] = field(default_factory=dict)

    def supports(self, citation: Citation, claim: str) -> bool:
        """Whether ``claim`` shares a keyword with what the cited article says."""
        words = self.keywords.get(Citation(self.canonical(citation.law), citation.article), ())
        return any(word in claim for word in words)

    def check_claims(self, text: str) -> List[Citation]:
        """Every inline citation of ``text``, each checked against the sentence that cites it.

        The sentence runs between the nearest 。！？, line break or top-level ； on either side, so a
        citation in brackets at the end of a sentence (……可以申请行政复议（第三十一条）。) is held
        against that sentence.
        """
        found = self.inline(text)
        for citation, start, end in self._inline_spans(text):
            claim = _sentence_around(text, start, end)
            if not self.supports(citation, claim):
                raise CitationError(
                    f"{citation_text(citation.law, citation.article)} does not say what is "
                    f"claimed in {claim!r} (its keywords: "
                    f"{list(self.keywords.get(citation, ()))})"
                )
        return found

    def canonical(self, title: str) -> str:
        if title in self.forbidden:
            raise CitationError(f"《{title}》 is superseded and must not be cited")
        try:
            return self.aliases[title]
        except KeyError:
            raise CitationError(f"《{title}》 is not in the allow-list") from None

    def check(self, citation: Citation) -> Citation:
        law = self.canonical(citation.law)
        if citation.article is None:
            if law not in self.whole_law:
                raise CitationError(f"《{law}》 must be cited with an article")
        elif citation.article not in self.articles.get(law, frozenset()):
            raise CitationError(
                f"《{law}》第{int_to_cn(citation.article)}条 is not in the allow-list"
            )
        return Citation(law, citation.article)

    def parse(self, text: str) -> Citation:
        """Parse and check one `basis` entry."""
        match = CITATION_RE.match(text.strip())
        if not match:
            raise CitationError(f"malformed citation {text!r}; write 《法名》第N条")
        article = match.group("article")
        return self.check(Citation(match.group("law"), cn_to_int(article) if article else None))

    def _inline_spans(self, text: str) -> List[Tuple[Citation, int, int]]:
        spans: List[Tuple[Citation, int, int]] = []
        previous_end, previous_law = -1, None
        for match in INLINE_RE.finditer(text):
            law = match.group("law")
            if law is None:
                between = text[previous_end:match.start()] if previous_end >= 0 else None
                law = previous_law if between in ("、", "和", "及") else PETITION_REGULATION
            citation = self.check(Citation(law, cn_to_int(match.group("article"))))
            spans.append((citation, match.start(), match.end()))
            previous_end, previous_law = match.end(), law
        # A whole-law citation (《人民调解法》 with no article) is a claim too.
        for match in re.finditer(r"《([^《》]+)》(?!第)", text):
            law = self.canonical(match.group(1))
            if law in self.whole_law:
                spans.append((Citation(law, None), match.start(), match.end()))
        return spans

    def inline(self, text: str) -> List[Citation]:
        """Every article named inside a text, read as a Chinese reader reads it.

        ``《医疗纠纷预防和处理条例》第二十二条、第四十条``: the second article belongs to the same
        law (a bare article right after ``、``/``和``/``及`` continues the previous citation).
        Any other bare ``第N条`` is an article of 《信访工作条例》.
        """
        found = [citation for citation, _, _ in self._inline_spans(text)
                 if citation.article is not None]
        for title in re.findall(r"《([^《》]+)》", text):
            self.canonical(title)   # a named law must at least be a known one
        return found


_STOPS = "。！？\n"


def _sentence_around(text: str, start: int, end: int) -> str:
    """The sentence holding text[start:end]; ； splits sentences only outside brackets."""
    depth = [0] * (len(text) + 1)
    level = 0
    for i, ch in enumerate(text):
        if ch in "（(":
            level += 1
        depth[i] = level
        if ch in "）)":
            level = max(0, level - 1)
    def is_stop(i: int) -> bool:
        return text[i] in _STOPS or (text[i] == "；" and depth[i] == 0)
    left = start
    while left > 0 and not is_stop(left - 1):
        left -= 1
    right = end
    while right < len(text) and not is_stop(right):
        right += 1
    return text[left:right]


def _require_summary(where: str, spec: Dict) -> Tuple[str, Tuple[str, ...]]:
    says, keywords = spec.get("says"), spec.get("keywords")
    if not (isinstance(says, str) and says.strip()):
        raise CitationError(f"sources: {where} needs `says`, a one-line summary")
    if not (isinstance(keywords, list) and keywords and all(isinstance(k, str) and k
                                                            for k in keywords)):
        raise CitationError(f"sources: {where} needs `keywords`, a non-empty list")
    return says, tuple(keywords)


def load_allow_list(path: Path | str = SOURCES_PATH) -> AllowList:
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    articles: Dict[str, FrozenSet[int]] = {}
    whole, aliases = set(), {}
    keywords: Dict[Citation, Tuple[str, ...]] = {}
    says: Dict[Citation, str] = {}
    for law, spec in data["laws"].items():
        spec = spec or {}
        by_article = spec.get("articles") or {}
        if not isinstance(by_article, dict):
            raise CitationError(f"sources: {law}: articles must map each number to says/keywords")
        numbers = set()
        for number, article_spec in by_article.items():
            citation = Citation(law, int(number))
            says[citation], keywords[citation] = _require_summary(
                f"{law} Art. {number}", article_spec or {})
            numbers.add(int(number))
        articles[law] = frozenset(numbers)
        if spec.get("whole_law"):
            whole.add(law)
            citation = Citation(law, None)
            says[citation], keywords[citation] = _require_summary(law, spec)
        aliases[law] = law
        for alias in spec.get("aliases", []):
            aliases[alias] = law
    return AllowList(articles, frozenset(whole), aliases, frozenset(data.get("forbidden", [])),
                     keywords, says)


@lru_cache(maxsize=1)
def allow_list() -> AllowList:
    return load_allow_list()


def citation_text(law: str, article: Optional[int]) -> str:
    return f"《{law}》" + (f"第{int_to_cn(article)}条" if article else "")


def normalise(citations: Iterable[str], allowed: AllowList | None = None) -> Tuple[Citation, ...]:
    allowed = allowed or allow_list()
    return tuple(allowed.parse(c) for c in citations)
