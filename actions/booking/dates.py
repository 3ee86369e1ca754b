"""Chinese date and time expressions, resolved to the next matching future date.

``parse_when("下周三上午十点", now)`` -> ``When(date=2026-12-02, time=10:00, part_of_day="morning")``.

How it works, and why:

* jionlp's time parser (``jionlp.ner.extract_time``) finds and evaluates the expressions. Measured
  on the expressions the assistant must understand (今天, 明天, 后天, 这周三, 本周五, 下周三, 下下周五,
  周五下午, 12月4日, 12月4号, 4号, 十二月四号, 下周三上午十点, 2026-12-04, 星期五, 礼拜三, 上午, 下午,
  十点, 10点半, 下午两点半, 14:30, 9:00) it reads every one literally right, given a ``time_base``.
  Cost on this machine: import 0.1-0.45 s, first call 0.1-0.25 s (it loads its tables), then about
  0.4 ms per call, and about 60 MB of memory. It is imported lazily; the action server can call
  ``warm_up()`` at start-up so that the first citizen does not wait. Its gaps are closed here:

  - it reads the expression literally, so 这周三 said on a Thursday and 4号 said on the 26th come
    back in the past; its ``ret_future`` option is wrong in other cases (下周三 -> the Wednesday
    after next), so it is not used and the forward resolution below is done here instead;
  - it does not say which parts the citizen stated: "十点" comes back as today at 10:00. Small
    regular expressions below tell whether a date, a clock time or a part of the day was said;
  - full-width digits (２０２６－１２－０４) are not understood: the text is NFKC-normalised first;
  - a bare hour from 1 to 6 ("两点") is read as 02:00; nobody books a lawyer at night, so it is
    taken as the afternoon (14:00);
  - a day of the month that the current month does not have ("31号" in November) is not
    understood; it is resolved here.

* Forward resolution (``now`` is injected, Asia/Shanghai):

  ======================  ==========================================  ===========
  expression              when its literal reading is in the past      ambiguous
  ======================  ==========================================  ===========
  周三, 星期三 (bare)     the next Wednesday                           no
  这周三, 本周三          the next Wednesday                           yes
  4号 (day only)          that day of the next month that has it       yes
  12月4日 (no year)       the same day next year                       yes
  2026-12-04, 上周三...   stays in the past: ``past`` is True          no
  ======================  ==========================================  ===========

  ``ambiguous`` means the bot should read the date back and ask for confirmation. A ``When`` whose
  ``past`` is True is never bookable; every other ``When.date`` is today or later.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import contextlib
import datetime as dt
import io
import re
import threading
import unicodedata
from dataclasses import dataclass, replace
from typing import Any, Dict, List, Optional

from actions.clock import as_shanghai

MORNING = "morning"
AFTERNOON = "afternoon"
EVENING = "evening"

_CN_DIGITS = "零〇一二两三四五六七八九十"
_NUM = rf"(?:\d{{1,2}}|[{_CN_DIGITS}]{{1,3}})"
_WEEKDAY = r"(?:周|星期|礼拜)(?P<weekday>[一二三四五六日天1-7])"
_FULL_DATE = re.compile(
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"
    rf"|(?:\d{{2,4}}|[{_CN_DIGITS}]{{2,4}}|今|明|去|前|后)年"
)
_RELATIVE_DAY = re.compile(r"今天|今日|今儿|明天|明日|明儿|大后天|后天")
_WEEKDAY_EXPR = re.compile(rf"(?P<which>下下个?|下个?|这个?|本|上上个?|上个?)?{_WEEKDAY}")
_MONTH_DAY = re.compile(rf"(?P<month>{_NUM}|下个?|本|这个?)月份?{_NUM}[日号]?|\d{{1,2}}[-/]\d{{1,2}}")
_DAY_ONLY = re.compile(rf"(?P<day>{_NUM})[日号]")
_CLOCK_TIME = re.compile(rf"{_NUM}[点时:]")
_PART_OF_DAY_WORDS = {
    MORNING: ("上午", "早上", "早晨", "清早", "上半天"),
    AFTERNOON: ("下午", "午后", "下半天", "中午"),
    EVENING: ("晚上", "傍晚", "夜里"),
}
_NIGHT_WORDS = ("凌晨", "半夜", "夜里")
# Hours a citizen says without 上午/下午 that mean the afternoon ("两点" = 14:00).
_BARE_AFTERNOON_HOURS = range(1, 7)


@dataclass(frozen=True)
class When:
    """What a date/time expression said, resolved against ``now``.

    ``date``: the day, today or later unless ``past``; None if no date was said ("十点").
    ``time``: a clock time that was said ("十点" -> 10:00), else None.
    ``part_of_day``: ``morning``/``afternoon``/``evening`` if said or implied by ``time``.
    ``ambiguous``: the reading involved a guess (moved forward, bare day of month): confirm it.
    ``rolled_forward``: the literal reading was in the past and was moved to the next occurrence.
    ``past``: an explicit date that has passed (2025-12-04, 上周三); never bookable.
    ``text``: the expression(s) recognised, after normalisation.
    """

    date: Optional[dt.date] = None
    time: Optional[dt.time] = None
    part_of_day: Optional[str] = None
    ambiguous: bool = False
    rolled_forward: bool = False
    past: bool = False
    text: str = ""

    @property
    def has_date(self) -> bool:
        return self.date is not None

    @property
    def has_time(self) -> bool:
        return self.time is not None


def normalize(text: str) -> str:
    """Full-width to ASCII (NFKC) and no white space: "下周三 上午" -> "下周三上午"."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def parse_when(text: str, now: dt.datetime) -> Optional[When]:
    """The date and/or time in ``text`` (which may hold other things, e.g. a name and a phone),
    or None if it holds neither. See the module docstring for the resolution rules."""
    now = as_shanghai(now)
    normalized = normalize(text)
    if not normalized:
        return None
    found = [_reading(entity, now) for entity in _extract(normalized, now)]
    found = [reading for reading in found if reading is not None]
    if not found:
        fallback = _day_of_month_fallback(normalized, now)
        found = [fallback] if fallback else []
    if not found:
        return None
    return _merge(found)


def warm_up() -> None:
    """Import jionlp and load its tables now rather than on the first message."""
    parse_when("明天上午十点", dt.datetime(2026, 1, 1, 12, 0))


def parse_date(text: str, now: dt.datetime) -> Optional[When]:
    """Like ``parse_when`` but None unless a date was said."""
    when = parse_when(text, now)
    return when if when is not None and when.date is not None else None


def parse_time_of_day(text: str, now: dt.datetime) -> Optional[When]:
    """Like ``parse_when`` but None unless a clock time or a part of the day was said."""
    when = parse_when(text, now)
    if when is None or (when.time is None and when.part_of_day is None):
        return None
    return when


# --- jionlp ----------------------------------------------------------------------------------

_jionlp_lock = threading.Lock()  # jionlp's parser keeps the time base in shared state
_jionlp_module: Any = None


def _jionlp() -> Any:
    global _jionlp_module
    if _jionlp_module is None:
        # jionlp prints a banner on import; keep it out of the admin command's output.
        with contextlib.redirect_stdout(io.StringIO()):
            import jionlp

        _jionlp_module = jionlp
    return _jionlp_module


def _extract(text: str, now: dt.datetime) -> List[Dict[str, Any]]:
    jio = _jionlp()
    base = now.replace(tzinfo=None)  # jionlp works in naive local time: Shanghai here
    with _jionlp_lock:
        try:
            entities = jio.ner.extract_time(text, time_base=base, with_parsing=True)
        except Exception:  # jionlp raises on odd input; that only means "no time here"
            return []
    return [e for e in entities if e.get("detail", {}).get("type") == "time_point"]


# --- interpretation ----------------------------------------------------------------------------


def _reading(entity: Dict[str, Any], now: dt.datetime) -> Optional[When]:
    span = entity["text"]
    start_text, end_text = entity["detail"]["time"]
    start = dt.datetime.fromisoformat(start_text)
    end = dt.datetime.fromisoformat(end_text)

    day: Optional[dt.date] = None
    ambiguous = rolled = past = False
    if _states_a_date(span, start, now) and start.date() == end.date():
        day, ambiguous, rolled, past = _resolve_forward(span, start.date(), now.date())

    clock: Optional[dt.time] = None
    part = _part_of_day_said(span)
    if _CLOCK_TIME.search(span) and entity["detail"].get("definition") == "accurate":
        clock = start.time().replace(second=0)
        if part is None and clock.hour in _BARE_AFTERNOON_HOURS and not _said_night(span):
            clock = clock.replace(hour=clock.hour + 12)
        part = _part_of_day_of(clock)
    if day is None and clock is None and part is None:
        return None
    return When(day, clock, part, ambiguous, rolled, past, span)


def _states_a_date(span: str, start: dt.datetime, now: dt.datetime) -> bool:
    if any(p.search(span) for p in (_FULL_DATE, _RELATIVE_DAY, _WEEKDAY_EXPR, _MONTH_DAY, _DAY_ONLY)):
        return True
    # Something else jionlp understood as a day (元旦, 国庆节...); today's date is what it fills in
    # for a bare time ("十点"), so it does not count.
    return start.date() != now.date()


def _resolve_forward(span: str, literal: dt.date, today: dt.date):
    """(date, ambiguous, rolled_forward, past) for a literal reading; see the module docstring."""
    if literal >= today:
        return literal, False, False, False
    if _FULL_DATE.search(span) or _RELATIVE_DAY.search(span):
        return literal, False, False, True
    weekday = _WEEKDAY_EXPR.search(span)
    if weekday:
        which = weekday.group("which") or ""
        if which.startswith(("上", "下")):  # 上周三 is past on purpose; 下周三 is never past
            return literal, False, False, True
        forward = literal + dt.timedelta(days=7 * -(-(today - literal).days // 7))
        return forward, bool(which), True, False
    month_day = _MONTH_DAY.search(span)
    if month_day:
        if (month_day.group("month") or "").startswith(("下", "本", "这")):  # 本月4号: said on purpose
            return literal, False, False, True
        forward = _same_day_next_year(literal)
        return (forward, True, True, False) if forward else (literal, False, False, True)
    if _DAY_ONLY.search(span):
        return _next_month_with_day(today, literal.day), True, True, False
    return literal, False, False, True


def _day_of_month_fallback(text: str, now: dt.datetime) -> Optional[When]:
    """"31号" when the current month has no 31st: jionlp gives up, the next month with one is meant."""
    match = _DAY_ONLY.search(text)
    day = _small_number(match.group("day")) if match else None
    if not day or not 1 <= day <= 31:
        return None
    today = now.date()
    if day >= today.day and day <= _days_in_month(today.year, today.month):
        return When(today.replace(day=day), text=text)
    return When(_next_month_with_day(today, day), ambiguous=True, rolled_forward=True, text=text)


def _merge(readings: List[When]) -> When:
    """The first date and the first time said: "下周三吧，十点" is one appointment."""
    with_date = next((r for r in readings if r.date is not None), None)
    with_time = next((r for r in readings if r.time is not None), None)
    with_part = next((r for r in readings if r.part_of_day is not None), None)
    merged = with_date or When()
    if with_time is not None:
        merged = replace(merged, time=with_time.time, part_of_day=with_time.part_of_day)
    elif merged.part_of_day is None and with_part is not None:
        merged = replace(merged, part_of_day=with_part.part_of_day)
    text = "".join(dict.fromkeys(r.text for r in (with_date, with_time, with_part) if r))
    return replace(merged, text=text)


def _part_of_day_said(span: str) -> Optional[str]:
    for part, words in _PART_OF_DAY_WORDS.items():
        if any(word in span for word in words):
            return part
    return None


def _said_night(span: str) -> bool:
    return any(word in span for word in _NIGHT_WORDS)


def _part_of_day_of(clock: dt.time) -> str:
    if clock < dt.time(12, 0):
        return MORNING
    if clock < dt.time(18, 0):
        return AFTERNOON
    return EVENING


def _same_day_next_year(day: dt.date) -> Optional[dt.date]:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return None


def _next_month_with_day(today: dt.date, day: int) -> dt.date:
    year, month = today.year, today.month
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        if day <= _days_in_month(year, month):
            return dt.date(year, month, day)


def _days_in_month(year: int, month: int) -> int:
    return _stdlib_calendar.monthrange(year, month)[1]


def _small_number(text: str) -> Optional[int]:
    """Numbers up to 99 in Arabic or Chinese numerals: "4", "四", "十二", "三十一", "两"."""
    if text.isdigit():
        return int(text)
    values = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}
    if "十" in text:
        tens, _, units = text.partition("十")
        if any(ch not in values for ch in tens + units):
            return None
        return (values[tens] if tens else 1) * 10 + (values[units] if units else 0)
    if len(text) == 1 and text in values:
        return values[text]
    return None
