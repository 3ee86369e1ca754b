"""The sound of Chinese text: toneless pinyin syllables (``pypinyin``), plain Python.

Shared by the pinyin featurizer (``bot/nlu/pinyin_featurizer.py``) and the crisis matcher's repair of
sound-alike slips (``bot/nlu/crisis_matcher.py``), so that both hear a slip the same way.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Text

# The sounds many speakers merge: zh/z, ch/c, sh/s and -ng/-n.
_MERGED = [(re.compile(r"^([zcs])h"), r"\1"), (re.compile(r"([aei])ng$"), r"\1n")]


@lru_cache(maxsize=65536)
def syllables(text: Text, fuzzy: bool = False) -> Text:
    """``text`` as space-separated toneless syllables (上纺 → "shang fang"); what is not Chinese is
    kept as typed, in lower case. With ``fuzzy``, merged sounds are merged (投述 → "tou su")."""
    from pypinyin import Style, lazy_pinyin

    out = []
    for syllable in lazy_pinyin(text, style=Style.NORMAL, errors="default"):
        syllable = syllable.strip().lower()
        if not syllable:
            continue
        if fuzzy and syllable.isascii() and syllable.isalpha():
            for pattern, replacement in _MERGED:
                syllable = pattern.sub(replacement, syllable)
        out.append(syllable)
    return " ".join(out)
