"""The assistant's clock: China Standard Time, whatever the machine's time zone.

``BOT_NOW`` (an ISO datetime, e.g. ``2026-12-01T09:30``) freezes the clock for tests and demos; a
naive value is read as Asia/Shanghai time. The variable is read on every call so that a test can
set it without reloading anything.
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    """The current time as an aware datetime in Asia/Shanghai."""
    fixed = os.environ.get("BOT_NOW", "").strip()
    if fixed:
        return parse_instant(fixed)
    return dt.datetime.now(SHANGHAI)


def today() -> dt.date:
    return now().date()


def parse_instant(text: str) -> dt.datetime:
    """An ISO datetime (or date) as an aware Asia/Shanghai datetime; naive means Shanghai."""
    text = text.strip()
    if text.endswith(("Z", "z")):  # fromisoformat() only accepts "Z" from Python 3.11 on
        text = text[:-1] + "+00:00"
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"BOT_NOW is not an ISO datetime: {text!r}") from error
    if moment.tzinfo is None:
        return moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI)


def as_shanghai(moment: dt.datetime) -> dt.datetime:
    """An aware datetime converted to Shanghai time; naive values are taken as Shanghai time."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI)
