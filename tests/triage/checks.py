"""Checks shared by the unit and end-to-end runs of the triage evaluation set (cases.yml).

A case passes when the decided channel is one of its ``channels``, the answer names one of its
``remedy`` words, and, where the case has a ``deadline``, the answer names that limit with its
number. Answers are normalised first (``normalise``) so that 十五天, １５日 and 15 日 all read 15日.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import yaml

CASES_PATH = Path(__file__).resolve().parent / "cases.yml"

# The limits a case may demand, exactly as written in cases.yml.
DEADLINES = ("10日", "15日", "30日", "60日", "6个月", "1年", "2年", "3年")
FIELDS = ("text", "matter_type", "channels", "stage_answer", "remedy", "deadline")
REQUIRED = ("text", "matter_type", "channels", "remedy")

FAILURE_KINDS = ("channel", "remedy", "deadline")

_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
           "七": 7, "八": 8, "九": 9}
_CN_NUMBER = re.compile(r"([零〇一二两三四五六七八九十]+)(?=\s*(?:个月|日|天|年|个工作日))")
_SPACE_BEFORE_UNIT = re.compile(r"(\d)\s+(?=个月|日|天|年)")


def load_cases(path: Path = CASES_PATH) -> List[Dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)["cases"]


def _cn_to_int(numeral: str) -> Optional[int]:
    """一 .. 九十九 (十五, 三十, 六十, 两 ...) -> int; None for anything else."""
    if "十" not in numeral:
        if len(numeral) != 1:
            return None
        return _DIGITS.get(numeral)
    if numeral.count("十") > 1:
        return None
    tens, _, units = numeral.partition("十")
    if len(tens) > 1 or len(units) > 1:
        return None
    t = _DIGITS.get(tens, None) if tens else 1
    u = _DIGITS.get(units, None) if units else 0
    if t is None or u is None:
        return None
    return t * 10 + u


def _replace_numeral(match: "re.Match[str]") -> str:
    value = _cn_to_int(match.group(1))
    return str(value) if value is not None else match.group(1)


def normalise(text: str) -> str:
    """Full-width digits, Chinese numerals before a unit, 天 -> 日, no space before the unit."""
    text = (text or "").translate(_FULL_WIDTH)
    text = _CN_NUMBER.sub(_replace_numeral, text)
    text = _SPACE_BEFORE_UNIT.sub(r"\1", text)
    return text.replace("天", "日")


def remedy_named(answer: str, words: Sequence[str]) -> bool:
    """Some remedy word appears in the answer."""
    text = normalise(answer)
    return any(normalise(str(word)) in text for word in words)


def deadline_named(answer: str, deadline: Optional[str]) -> bool:
    """The limit appears with its number: 15日 in 十五日内 or 15天, but not in 12月15日 or 2015日;
    3年 not in 2023年. True when the case demands no deadline."""
    if not deadline:
        return True
    wanted = normalise(str(deadline))
    pattern = r"(?<![\d.月])" + re.escape(wanted)
    return re.search(pattern, normalise(answer)) is not None


def failures(case: Mapping[str, Any], channel: Optional[str], answer: str) -> List[str]:
    """What is wrong with the assistant's outcome for a case: a sublist of FAILURE_KINDS."""
    wrong = []
    if channel not in case["channels"]:
        wrong.append("channel")
    if not remedy_named(answer, case["remedy"]):
        wrong.append("remedy")
    if not deadline_named(answer, case.get("deadline")):
        wrong.append("deadline")
    return wrong


def malformed(case: Mapping[str, Any], matter_types: Sequence[str],
              channels: Sequence[str]) -> List[str]:
    """Problems with the case's own form (empty when well formed)."""
    problems = []
    extra = set(case) - set(FIELDS)
    if extra:
        problems.append(f"unknown fields {sorted(extra)}")
    missing = [f for f in REQUIRED if f not in case]
    if missing:
        problems.append(f"missing fields {missing}")
        return problems
    if case["matter_type"] not in matter_types:
        problems.append(f"matter_type {case['matter_type']!r}")
    if not case["channels"] or not set(case["channels"]) <= set(channels):
        problems.append(f"channels {case['channels']!r}")
    remedy = case["remedy"]
    if not isinstance(remedy, list) or not remedy or not all(isinstance(w, str) and w for w in remedy):
        problems.append(f"remedy must be a non-empty list of words: {remedy!r}")
    if "deadline" in case and case["deadline"] not in DEADLINES:
        problems.append(f"deadline {case['deadline']!r} is not one of {DEADLINES}")
    return problems


def report(results: Sequence[tuple], title: str) -> str:
    """results: (case, channel, failures) -> the summary printed by both runs."""
    total = len(results)
    failing = [(case, channel, kinds) for case, channel, kinds in results if kinds]
    passed = total - len(failing)
    counts = {kind: sum(kind in kinds for _, _, kinds in failing) for kind in FAILURE_KINDS}
    lines = [
        f"{title}: accuracy {passed / total:.3f} ({passed}/{total}) "
        f"(channel, remedy named, deadline named)",
        "failures: " + ", ".join(f"{kind} {counts[kind]}" for kind in FAILURE_KINDS),
    ]
    for case, channel, kinds in failing:
        expected = []
        if "channel" in kinds:
            expected.append(f"channel {channel} not in {case['channels']}")
        if "remedy" in kinds:
            expected.append(f"no remedy of {case['remedy']}")
        if "deadline" in kinds:
            expected.append(f"no deadline {case['deadline']}")
        lines.append(f"  [{'/'.join(kinds)}] {case['text']}  -> " + "; ".join(expected))
    return "\n".join(lines)
