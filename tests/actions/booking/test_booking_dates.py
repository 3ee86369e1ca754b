"""Chinese date and time expressions, with the clock fixed on Thursday 2026-11-26 10:00."""

import datetime as dt

import pytest

from actions.booking.dates import AFTERNOON, MORNING, parse_date, parse_time_of_day, parse_when
from actions.clock import SHANGHAI

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)  # Thursday
D = dt.date
T = dt.time


@pytest.mark.parametrize(
    "text, date, ambiguous",
    [
        ("今天", D(2026, 11, 26), False),
        ("明天", D(2026, 11, 27), False),
        ("后天", D(2026, 11, 28), False),
        ("这周三", D(2026, 12, 2), True),      # this week's Wednesday has passed: moved, to confirm
        ("本周五", D(2026, 11, 27), False),
        ("下周三", D(2026, 12, 2), False),
        ("下下周五", D(2026, 12, 11), False),
        ("12月4日", D(2026, 12, 4), False),
        ("12月4号", D(2026, 12, 4), False),
        ("4号", D(2026, 12, 4), True),         # the 4th of this month has passed
        ("十二月四号", D(2026, 12, 4), False),
        ("2026-12-04", D(2026, 12, 4), False),
        ("２０２６－１２－０４", D(2026, 12, 4), False),
        ("１２月４日", D(2026, 12, 4), False),
        ("星期五", D(2026, 11, 27), False),
        ("礼拜三", D(2026, 12, 2), False),     # a bare weekday means the next one
        ("周三", D(2026, 12, 2), False),
        ("28号", D(2026, 11, 28), False),
        ("31号", D(2026, 12, 31), True),       # November has no 31st
        ("下个月4号", D(2026, 12, 4), False),
    ],
)
def test_dates_resolve_to_the_next_matching_future_date(text, date, ambiguous):
    when = parse_date(text, NOW)
    assert when is not None, text
    assert (when.date, when.ambiguous, when.past) == (date, ambiguous, False)
    assert when.date >= NOW.date()
    assert when.time is None


@pytest.mark.parametrize(
    "text, date, time, part",
    [
        ("周五下午", D(2026, 11, 27), None, AFTERNOON),
        ("下周三上午十点", D(2026, 12, 2), T(10, 0), MORNING),
        ("下周三上午10点", D(2026, 12, 2), T(10, 0), MORNING),
        ("12月4号下午两点半", D(2026, 12, 4), T(14, 30), AFTERNOON),
        ("下周三 10:30", D(2026, 12, 2), T(10, 30), MORNING),
        ("明天上午9点半", D(2026, 11, 27), T(9, 30), MORNING),
        ("下周三吧，十点", D(2026, 12, 2), T(10, 0), MORNING),
        ("明天早上九点", D(2026, 11, 27), T(9, 0), MORNING),
    ],
)
def test_date_with_time_or_part_of_day(text, date, time, part):
    when = parse_when(text, NOW)
    assert (when.date, when.time, when.part_of_day) == (date, time, part)


@pytest.mark.parametrize(
    "text, time, part",
    [
        ("上午", None, MORNING),
        ("下午", None, AFTERNOON),
        ("十点", T(10, 0), MORNING),
        ("10点半", T(10, 30), MORNING),
        ("九点半", T(9, 30), MORNING),
        ("下午两点半", T(14, 30), AFTERNOON),
        ("14:30", T(14, 30), AFTERNOON),
        ("１４：３０", T(14, 30), AFTERNOON),
        ("9:00", T(9, 0), MORNING),
        ("三点", T(15, 0), AFTERNOON),         # nobody books a lawyer at 3 a.m.
        ("两点", T(14, 0), AFTERNOON),
    ],
)
def test_times_without_a_date(text, time, part):
    when = parse_time_of_day(text, NOW)
    assert when is not None, text
    assert (when.date, when.time, when.part_of_day) == (None, time, part)
    assert parse_date(text, NOW) is None


def test_a_date_inside_a_longer_message():
    when = parse_when("下周三上午十点，我叫王建国，电话13812345678", NOW)
    assert (when.date, when.time) == (D(2026, 12, 2), T(10, 0))


@pytest.mark.parametrize("text", ["我叫王建国，电话13812345678", "随便", "", "   ", "不约了"])
def test_no_date_or_time(text):
    assert parse_when(text, NOW) is None


@pytest.mark.parametrize("text", ["2025-12-04", "上周三", "本月4号", "2026年11月25日"])
def test_explicitly_past_dates_are_flagged_not_moved(text):
    when = parse_date(text, NOW)
    assert when.past is True
    assert when.date < NOW.date()


def test_this_weekday_is_today_on_that_day():
    wednesday = dt.datetime(2026, 12, 2, 8, 0, tzinfo=SHANGHAI)
    assert parse_date("这周三", wednesday).date == D(2026, 12, 2)
    assert parse_date("周三", wednesday).date == D(2026, 12, 2)
    assert parse_date("下周三", wednesday).date == D(2026, 12, 9)


def test_month_day_already_past_this_year_means_next_year():
    december_tenth = dt.datetime(2026, 12, 10, 10, 0, tzinfo=SHANGHAI)
    when = parse_date("12月4日", december_tenth)
    assert (when.date, when.ambiguous, when.rolled_forward) == (D(2027, 12, 4), True, True)


def test_across_the_new_year():
    end_of_year = dt.datetime(2026, 12, 28, 10, 0, tzinfo=SHANGHAI)  # Monday
    assert parse_date("4号", end_of_year).date == D(2027, 1, 4)
    assert parse_date("下周三", end_of_year).date == D(2027, 1, 6)
    assert parse_date("1月5号", end_of_year).date == D(2027, 1, 5)
    assert parse_date("周三", end_of_year).date == D(2026, 12, 30)


def test_naive_now_is_shanghai_time():
    naive = dt.datetime(2026, 11, 26, 10, 0)
    assert parse_date("明天", naive).date == D(2026, 11, 27)


def test_late_evening_utc_machine_still_uses_shanghai_date():
    # 2026-11-26 17:00 UTC is already Friday 01:00 in Shanghai.
    utc_evening = dt.datetime(2026, 11, 26, 17, 0, tzinfo=dt.timezone.utc)
    assert parse_date("今天", utc_evening).date == D(2026, 11, 27)


def test_warm_up_loads_the_parser():
    from actions.booking.dates import warm_up

    warm_up()
    assert parse_date("明天", NOW).date == D(2026, 11, 27)
