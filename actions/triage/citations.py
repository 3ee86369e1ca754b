"""Citations of the triage rules and the allow-list they are checked against.

A citation is written as ``《信访工作条例》第三十一条`` (optionally followed by ``第一款`` /
``第一项``), or as a bare title such as ``《人民调解法》`` where ``sources.yml`` allows the law
to be cited as a whole. Inside rule texts an article without a title (``第三十一条``) means
《信访工作条例》.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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

    def inline(self, text: str) -> List[Citation]:
        """Every article named inside a text, read as a Chinese reader reads it.

        ``《医疗纠纷预防和处理条例》第二十二条、第四十条``: the second article belongs to the same
        law (a bare article right after ``、``/``和``/``及`` continues the previous citation).
        Any other bare ``第N条`` is an article of 《信访工作条例》.
        """
        found: List[Citation] = []
        previous_end, previous_law = -1, None
        for match in INLINE_RE.finditer(text):
            law = match.group("law")
            if law is None:
                between = text[previous_end:match.start()] if previous_end >= 0 else None
                law = previous_law if between in ("、", "和", "及") else PETITION_REGULATION
            found.append(self.check(Citation(law, cn_to_int(match.group("article")))))
            previous_end, previous_law = match.end(), law
        for title in re.findall(r"《([^《》]+)》", text):
            self.canonical(title)   # a named law must at least be a known one
        return found


def _article_set(spec) -> FrozenSet[int]:
    if spec is None:
        return frozenset()
    if isinstance(spec, str):
        low, high = (int(part) for part in spec.split("-"))
        return frozenset(range(low, high + 1))
    return frozenset(int(n) for n in spec)


def load_allow_list(path: Path | str = SOURCES_PATH) -> AllowList:
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    articles: Dict[str, FrozenSet[int]] = {}
    whole, aliases = set(), {}
    for law, spec in data["laws"].items():
        spec = spec or {}
        articles[law] = _article_set(spec.get("articles"))
        if spec.get("whole_law"):
            whole.add(law)
        aliases[law] = law
        for alias in spec.get("aliases", []):
            aliases[alias] = law
    return AllowList(articles, frozenset(whole), aliases, frozenset(data.get("forbidden", [])))


@lru_cache(maxsize=1)
def allow_list() -> AllowList:
    return load_allow_list()


def citation_text(law: str, article: Optional[int]) -> str:
    return f"《{law}》" + (f"第{int_to_cn(article)}条" if article else "")


def normalise(citations: Iterable[str], allowed: AllowList | None = None) -> Tuple[Citation, ...]:
    allowed = allowed or allow_list()
    return tuple(allowed.parse(c) for c in citations)
