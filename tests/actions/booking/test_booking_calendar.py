import datetime as dt
import logging

import chinese_calendar
import pytest

from actions.booking import calendar
from actions.booking.calendar import calendar_warnings, day_status, known_holidays, uncovered_years
from actions.booking.errors import Reason

WED_FRI = [2, 4]
D = dt.date


def test_only_wednesdays_and_fridays_are_lawyer_days():
    start = D(2026, 11, 23)  # four ordinary weeks, no holiday
    days = [start + dt.timedelta(days=n) for n in range(28)]
    lawyer_days = [d for d in days if day_status(d, WED_FRI, {}).is_lawyer_day]
    assert lawyer_days and all(d.weekday() in (2, 4) for d in lawyer_days)
    assert len(lawyer_days) == 8
    assert day_status(D(2026, 11, 26), WED_FRI, {}).closed_reason == Reason.NOT_LAWYER_DAY


def test_a_holiday_friday_is_closed():
    status = day_status(D(2026, 10, 2), WED_FRI, {})  # National Day, a Friday
    assert status.closed_reason == Reason.HOLIDAY
    assert status.note == "国庆节"
    assert day_status(D(2026, 10, 7), WED_FRI, {}).closed_reason == Reason.HOLIDAY  # a Wednesday off


@pytest.mark.parametrize("makeup_day", [D(2026, 9, 20), D(2026, 10, 10)])  # a Sunday, a Saturday
def test_a_makeup_working_day_is_not_a_lawyer_day(makeup_day):
    assert chinese_calendar.is_workday(makeup_day) and makeup_day.weekday() >= 5
    status = day_status(makeup_day, WED_FRI, {})
    assert status.closed_reason == Reason.NOT_LAWYER_DAY
    assert status.makeup_workday is True
    # ...unless its weekday is configured as a lawyer day anyway.
    assert day_status(makeup_day, [makeup_day.weekday()], {}).is_lawyer_day


def test_an_operator_closure_closes_a_lawyer_day():
    status = day_status(D(2026, 12, 2), WED_FRI, {D(2026, 12, 2): "集中学习"})
    assert (status.closed_reason, status.note) == (Reason.CLOSURE, "集中学习")


# --- years chinese_calendar does not cover -------------------------------------------------


def test_2027_is_not_covered_by_the_installed_package():
    # The policy below only matters while the package lacks the year; if this fails, chinesecalendar
    # was upgraded: move these tests to the first year it does not cover.
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_holiday(D(2027, 1, 6))
    assert uncovered_years(D(2026, 12, 10), D(2027, 1, 7)) == [2027]
    assert uncovered_years(D(2026, 1, 1), D(2026, 12, 31)) == []


@pytest.mark.parametrize(
    "day, name",
    [
        (D(2027, 1, 1), "元旦"),             # Friday
        (D(2027, 2, 5), "春节"),            # Friday: the lunar new year's eve (除夕)
        (D(2027, 6, 9), "端午"),             # Wednesday
        (D(2027, 9, 15), "中秋"),            # Wednesday
        (D(2027, 10, 1), "国庆节"),          # Friday
    ],
)
def test_uncovered_year_statutory_holidays_are_closed(day, name):
    status = day_status(day, WED_FRI, {})
    assert (status.closed_reason, status.note, status.uncovered) == (Reason.HOLIDAY, name, True)


def test_uncovered_year_other_days_open_with_one_warning(monkeypatch, caplog):
    monkeypatch.setattr(calendar, "_warned_years", set())
    with caplog.at_level(logging.WARNING, logger="actions.booking.calendar"):
        first = day_status(D(2027, 1, 6), WED_FRI, {})
        second = day_status(D(2027, 1, 8), WED_FRI, {})
    assert first.is_lawyer_day and first.uncovered
    assert second.is_lawyer_day
    warnings = [r for r in caplog.records if "2027" in r.getMessage()]
    assert len(warnings) == 1


def test_uncovered_year_closures_still_apply():
    status = day_status(D(2027, 2, 10), WED_FRI, {D(2027, 2, 10): "春节调休"})
    assert status.closed_reason == Reason.CLOSURE


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_fallback_holidays_agree_with_the_official_arrangements(year):
    """The statutory days the fallback closes were all official days off in covered years
    (the 2024 revision of the holiday rules applies from 2025)."""
    for day, name in known_holidays(year).items():
        assert chinese_calendar.is_holiday(day), (day, name)


def test_calendar_warnings_for_the_admin_command():
    warnings = calendar_warnings(D(2026, 12, 20), D(2027, 1, 17))
    assert len(warnings) == 1
    assert "2027" in warnings[0] and "2027-01-01" in warnings[0]
    assert calendar_warnings(D(2026, 11, 26), D(2026, 12, 24)) == []
