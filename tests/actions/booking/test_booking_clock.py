import datetime as dt

import pytest

from actions import clock


def test_now_is_aware_shanghai_time():
    moment = clock.now()
    assert moment.tzinfo is clock.SHANGHAI
    assert moment.utcoffset() == dt.timedelta(hours=8)


def test_bot_now_naive_means_shanghai(monkeypatch):
    monkeypatch.setenv("BOT_NOW", "2026-12-02T09:30")
    assert clock.now() == dt.datetime(2026, 12, 2, 9, 30, tzinfo=clock.SHANGHAI)
    assert clock.today() == dt.date(2026, 12, 2)


def test_bot_now_with_offset_is_converted(monkeypatch):
    monkeypatch.setenv("BOT_NOW", "2026-12-01T20:00:00Z")
    assert clock.now() == dt.datetime(2026, 12, 2, 4, 0, tzinfo=clock.SHANGHAI)
    assert clock.now().tzinfo is clock.SHANGHAI


def test_bot_now_must_be_iso(monkeypatch):
    monkeypatch.setenv("BOT_NOW", "next tuesday")
    with pytest.raises(ValueError, match="BOT_NOW"):
        clock.now()
