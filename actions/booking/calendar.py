"""Which dates are lawyer days.

A date is a lawyer day when all of these hold:

1. its weekday is one of ``lawyer_sessions.weekdays`` (default Wednesday and Friday);
2. it is not a statutory holiday, nor a day off in lieu (调休放假), per ``chinese_calendar``;
3. it is not closed by the operator (``lawyer_sessions.closures`` in bureau.yml, or the closures
   table written by ``python -m actions.admin close``).

A make-up working day (调休上班, usually a Saturday or Sunday worked in exchange for a bridge
holiday) never adds a lawyer day: it is one only if its weekday is a configured weekday anyway.
A holiday that falls on a lawyer weekday is closed: 2026-10-02 (National Day) is a Friday.

Years ``chinese_calendar`` does not cover
-----------------------------------------
The State Council publishes each year's holiday arrangement (with its bridge days and make-up
working days) late in the year before, and a new release of ``chinesecalendar`` follows. Until the
package is upgraded, a date in a year it does not cover (it raises ``NotImplementedError``) is
handled as follows, and is never silently treated as an ordinary day:

* The statutory holidays themselves are known from 《全国年节及纪念日放假办法》 (2024 revision) and
  are closed (reason ``holiday``): 元旦 1/1; 春节 农历除夕 and 正月初一 to 初三; 清明 (the solar term);
  劳动节 5/1-5/2; 端午 农历五月初五; 中秋 农历八月十五; 国庆 10/1-10/3. The lunar dates come from
  jionlp's lunar calendar table (1900-2100), the solar term from ``chinese_calendar``.
* Every other date is open, because the bridge days of the coming arrangement cannot be guessed.
  The first time such a date is checked a warning is logged (once per year per process), and
  ``python -m actions.admin calendar-check`` lists the uncovered years inside the booking window
  with the dates it closed, so that the operator upgrades ``chinesecalendar`` or adds the
  announced bridge days as closures.
* ``DayStatus.uncovered`` tells the caller, so a reply can say the holiday arrangement is not
  yet published.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import logging
import threading
from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Optional

import chinese_calendar

from actions.booking.errors import Reason

log = logging.getLogger(__name__)

_Holiday = chinese_calendar.Holiday
# Holiday names in Chinese, as chinese_calendar spells them (it reports them in English).
_CHINESE_NAMES = {holiday.value: holiday.chinese for holiday in _Holiday}
# 《全国年节及纪念日放假办法》, 2024 revision (in force since 2025-01-01), article 2.
FIXED_DATE_HOLIDAYS = {
    (1, 1): _Holiday.new_years_day.chinese,
    (5, 1): _Holiday.labour_day.chinese,
    (5, 2): _Holiday.labour_day.chinese,
    (10, 1): _Holiday.national_day.chinese,
    (10, 2): _Holiday.national_day.chinese,
    (10, 3): _Holiday.national_day.chinese,
}
# Lunar (month, day) of the lunar-calendar holidays; 除夕 (the eve) is added separately.
LUNAR_HOLIDAYS = {
    (1, 1): _Holiday.spring_festival.chinese,
    (1, 2): _Holiday.spring_festival.chinese,
    (1, 3): _Holiday.spring_festival.chinese,
    (5, 5): _Holiday.dragon_boat_festival.chinese,
    (8, 15): _Holiday.mid_autumn_festival.chinese,
}


@dataclass(frozen=True)
class DayStatus:
    """The calendar's verdict on one date (booking window and slots are not its business).

    ``closed_reason``: None for a lawyer day, else ``not_lawyer_day``, ``holiday`` or ``closure``.
    ``note``: the holiday's Chinese name (e.g. ``国庆节``) or the operator's closure text.
    ``uncovered``: chinese_calendar has no data for the year; see the module docstring.
    ``makeup_workday``: a make-up working day (调休上班); informative only.
    """

    date: dt.date
    closed_reason: Optional[Reason]
    note: Optional[str] = None
    uncovered: bool = False
    makeup_workday: bool = False

    @property
    def is_lawyer_day(self) -> bool:
        return self.closed_reason is None


def day_status(day: dt.date, weekdays: Iterable[int], closures: Mapping[dt.date, str]) -> DayStatus:
    """The status of ``day`` given the lawyer weekdays (Monday is 0) and the operator's closures."""
    holiday, holiday_name, makeup, uncovered = _statutory(day)
    holiday_name = holiday_name if holiday else None  # chinese_calendar also names make-up days
    if day.weekday() not in set(weekdays):
        return DayStatus(day, Reason.NOT_LAWYER_DAY, holiday_name, uncovered, makeup)
    if holiday:
        return DayStatus(day, Reason.HOLIDAY, holiday_name, uncovered, makeup)
    if day in closures:
        return DayStatus(day, Reason.CLOSURE, closures[day] or None, uncovered, makeup)
    if uncovered:
        _warn_uncovered_once(day.year)
    return DayStatus(day, None, None, uncovered, makeup)


def is_covered(year: int) -> bool:
    """Whether chinese_calendar has the official holiday arrangement of ``year``."""
    return year in _covered_years()


def uncovered_years(start: dt.date, end: dt.date) -> List[int]:
    """Years between ``start`` and ``end`` (inclusive) that chinese_calendar does not cover."""
    return [year for year in range(start.year, end.year + 1) if not is_covered(year)]


def known_holidays(year: int) -> Dict[dt.date, str]:
    """The statutory holidays of an uncovered year that are closed anyway (see module docstring)."""
    return dict(_known_holidays(year))


@functools.lru_cache(maxsize=32)
def _known_holidays(year: int) -> Dict[dt.date, str]:
    days: Dict[dt.date, str] = {dt.date(year, m, d): name for (m, d), name in FIXED_DATE_HOLIDAYS.items()}
    days.update(_lunar_holidays(year))
    for day, term in chinese_calendar.get_solar_terms(dt.date(year, 4, 1), dt.date(year, 4, 30)):
        if term == "清明":
            days[day] = _Holiday.tomb_sweeping_day.chinese
    return dict(sorted(days.items()))


def calendar_warnings(start: dt.date, end: dt.date) -> List[str]:
    """Plain-text warnings for the admin command: one per uncovered year touching the window."""
    warnings = []
    for year in uncovered_years(start, end):
        inside = {d: n for d, n in known_holidays(year).items() if start <= d <= end}
        listed = ", ".join(f"{d.isoformat()} {n}" for d, n in inside.items()) or "none inside the window"
        warnings.append(
            f"chinesecalendar {_package_version()} has no holiday data for {year}: only the statutory "
            f"holidays are closed ({listed}); bridge days and make-up working days of {year} are "
            f"unknown. Upgrade chinesecalendar once the State Council publishes {year}'s arrangement, "
            f"or add the announced days off with `python -m actions.admin close DATE --reason ...`."
        )
    return warnings


# --- internals -------------------------------------------------------------------------------

_warned_years: set = set()
_warned_lock = threading.Lock()


def _statutory(day: dt.date):
    """(is_holiday, name, is_makeup_workday, uncovered) from chinese_calendar or the fallback."""
    try:
        holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        name = _known_holidays(day.year).get(day)
        return name is not None, name, False, True
    makeup = (not holiday) and day.weekday() >= 5
    return holiday, _CHINESE_NAMES.get(name, name), makeup, False


def _warn_uncovered_once(year: int) -> None:
    with _warned_lock:
        if year in _warned_years:
            return
        _warned_years.add(year)
    log.warning(
        "chinesecalendar %s has no holiday data for %s: dates of %s are open except the statutory "
        "holidays; upgrade the package or add closures (python -m actions.admin calendar-check)",
        _package_version(), year, year,
    )


@functools.lru_cache(maxsize=1)
def _covered_years() -> frozenset:
    return frozenset(day.year for day in chinese_calendar.holidays)


@functools.lru_cache(maxsize=32)
def _lunar_holidays(year: int) -> Dict[dt.date, str]:
    lunar = _lunar_calendar()
    days = {}
    for (month, day), name in LUNAR_HOLIDAYS.items():
        days[lunar.to_solar_date(year, month, day).date()] = name
    days[lunar.to_solar_date(year, 1, 1).date() - dt.timedelta(days=1)] = _Holiday.spring_festival.chinese
    return days


@functools.lru_cache(maxsize=1)
def _lunar_calendar():
    # Imported lazily: only uncovered years need it, and jionlp prints a banner on import.
    with contextlib.redirect_stdout(io.StringIO()):
        from jionlp.gadget.lunar_solar_date import LunarSolarDate
    return LunarSolarDate()


def _package_version() -> str:
    return getattr(chinese_calendar, "__version__", "?")
