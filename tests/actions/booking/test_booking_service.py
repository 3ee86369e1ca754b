"""The booking service on a SQLite file, with the clock fixed (Thursday 2026-11-26 10:00 unless set)."""

import datetime as dt
import logging

import pytest
from booking_helpers import book, phone
from sqlalchemy import func, select

from actions.booking.errors import (
    DateClosed,
    IdempotencyMismatch,
    InvalidInput,
    InvalidName,
    InvalidPhone,
    LimitReached,
    NotChangeable,
    NotFound,
    Reason,
    SlotFull,
    SlotUnavailable,
)
from actions.booking.models import Booking, BookingStatistic
from actions.booking.service import BookingService
from actions.clock import SHANGHAI

D, T = dt.date, dt.time
WED, FRI = D(2026, 12, 2), D(2026, 11, 27)
ALL_TIMES = ["09:00", "09:30", "10:00", "10:30", "11:00", "14:30", "15:00", "15:30", "16:00", "16:30"]


# --- availability ---------------------------------------------------------------------------


def test_slots_of_a_lawyer_day(service):
    assert [s.label for s in service.free_slots(WED)] == ALL_TIMES
    assert [s.label for s in service.free_slots(WED, "morning")] == ALL_TIMES[:5]
    assert [s.label for s in service.free_slots(WED, "afternoon")] == ALL_TIMES[5:]
    assert all(s.capacity == 2 and s.free == 2 for s in service.free_slots(WED))


@pytest.mark.parametrize(
    "day, reason",
    [
        (D(2026, 11, 25), Reason.PAST),
        (D(2026, 11, 26), Reason.NOT_LAWYER_DAY),  # today, a Thursday
        (D(2026, 11, 28), Reason.NOT_LAWYER_DAY),
        (D(2026, 11, 27), None),
        (D(2026, 12, 23), None),                    # 27 days ahead
        (D(2026, 12, 25), Reason.TOO_FAR),          # 29 days ahead
    ],
)
def test_check_date(service, day, reason):
    assert service.check_date(day) == reason
    assert service.check_date(day.isoformat()) == reason


def test_booking_window_is_inclusive(service, clock):
    clock.set(2026, 11, 25, 8, 0)  # a Wednesday: the window ends on Wednesday 2026-12-23
    assert service.last_bookable_date() == D(2026, 12, 23)
    assert service.check_date(D(2026, 12, 23)) is None
    with pytest.raises(DateClosed) as error:
        book(service, D(2026, 12, 25), "09:00")
    assert error.value.reason == Reason.TOO_FAR


def test_holiday_friday_is_refused(service, clock):
    clock.set(2026, 9, 28, 10, 0)
    assert service.check_date(D(2026, 10, 2)) == Reason.HOLIDAY
    assert service.free_slots(D(2026, 10, 2)) == []
    with pytest.raises(DateClosed) as error:
        book(service, D(2026, 10, 2), "09:00")
    assert (error.value.reason, error.value.detail) == (Reason.HOLIDAY, "国庆节")
    assert service.check_date(D(2026, 10, 9)) is None  # the Friday after is open


def test_makeup_working_saturday_is_refused(service, clock):
    clock.set(2026, 10, 8, 10, 0)
    assert service.check_date(D(2026, 10, 10)) == Reason.NOT_LAWYER_DAY


def test_uncovered_year_policy_through_the_service(service, clock):
    clock.set(2026, 12, 20, 10, 0)
    assert service.check_date(D(2027, 1, 1)) == Reason.HOLIDAY  # 元旦, a Friday
    assert service.check_date(D(2027, 1, 6)) is None            # open, with a warning logged
    assert service.day_status(D(2027, 1, 6)).uncovered is True


def test_cutoff(service, clock):
    clock.set(2026, 12, 2, 9, 0)  # Wednesday 09:00: the 10:00 slot closes exactly now
    assert service.check_slot(WED, "10:00") is None
    assert service.check_slot(WED, "09:30") == Reason.TOO_LATE
    assert [s.label for s in service.free_slots(WED)] == ALL_TIMES[2:]
    clock.set(2026, 12, 2, 9, 1)
    with pytest.raises(SlotUnavailable) as error:
        book(service, WED, "10:00")
    assert error.value.reason == Reason.TOO_LATE
    clock.set(2026, 12, 2, 15, 31)  # after the last cut-off of the day
    assert service.check_date(WED) == Reason.TOO_LATE
    assert service.free_slots(WED) == []


@pytest.mark.parametrize("time", ["10:15", "12:00", "08:30", "17:00", "ten", ""])
def test_not_a_slot(service, time):
    assert service.check_slot(WED, time) == Reason.NOT_A_SLOT
    with pytest.raises(SlotUnavailable) as error:
        book(service, WED, time)
    assert error.value.reason == Reason.NOT_A_SLOT


def test_closures_from_config_and_from_staff(make_config, make_service, sqlite_url):
    svc = make_service(sqlite_url, make_config(closures={"2026-12-04": "单位集中学习"}))
    assert svc.check_date(D(2026, 12, 4)) == Reason.CLOSURE
    assert svc.day_status(D(2026, 12, 4)).note == "单位集中学习"
    existing = book(svc, WED, "10:00")
    affected = svc.add_closure(WED, "停电检修")
    assert [b.code for b in affected] == [existing.code]
    assert svc.check_date(WED) == Reason.CLOSURE
    assert svc.closures() == {D(2026, 12, 4): "单位集中学习", WED: "停电检修"}
    with pytest.raises(DateClosed) as error:
        book(svc, WED, "10:30")
    assert (error.value.reason, error.value.detail) == (Reason.CLOSURE, "停电检修")
    assert svc.remove_closure(WED) is True
    assert svc.remove_closure(WED) is False
    assert svc.check_date(WED) is None


# --- capacity -------------------------------------------------------------------------------


def test_capacity_of_a_slot(service):
    book(service, WED, "10:00")
    book(service, WED, "10:00")
    assert service.check_slot(WED, "10:00") == Reason.FULL
    with pytest.raises(SlotFull):
        book(service, WED, "10:00")
    assert "10:00" not in [s.label for s in service.free_slots(WED)]
    assert service.check_date(WED) is None  # other slots are free


def test_full_day_and_nearest_free_slots(make_config, make_service, sqlite_url):
    svc = make_service(sqlite_url, make_config(lawyers_per_day=1))
    for n, time in enumerate(ALL_TIMES):
        book(svc, WED, time, n=n)
    assert svc.check_date(WED) == Reason.FULL
    assert svc.free_slots(WED) == []
    nearest = svc.nearest_free_slots(dt.datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI), n=3)
    # Friday 12-04 09:00 is 47 hours after the wanted slot, Friday 11-27 16:30 is 113 hours before.
    assert [(s.date, s.label) for s in nearest] == [
        (D(2026, 12, 4), "09:00"), (D(2026, 12, 4), "09:30"), (D(2026, 12, 4), "10:00")
    ]
    before = svc.nearest_free_slots(dt.datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI), n=2)
    assert [(s.date, s.label) for s in before] == [(FRI, "16:00"), (FRI, "16:30")]
    afternoon = svc.nearest_free_slots(WED, n=2, part_of_day="afternoon")
    assert all(s.part_of_day == "afternoon" for s in afternoon)


def test_nearest_free_slots_skip_closed_and_past_slots(service, clock):
    clock.set(2026, 12, 2, 16, 0)
    service.add_closure(D(2026, 12, 4), "培训")
    nearest = service.nearest_free_slots(D(2026, 12, 4), n=2)
    assert [(s.date, s.label) for s in nearest] == [(D(2026, 12, 9), "09:00"), (D(2026, 12, 9), "09:30")]


def test_capacity_follows_the_configuration_but_never_below_the_booked(make_config, make_service, sqlite_url):
    two = make_service(sqlite_url, make_config(lawyers_per_day=2))
    book(two, WED, "10:00")
    book(two, WED, "10:00")
    three = make_service(sqlite_url, make_config(lawyers_per_day=3))
    assert three.check_slot(WED, "10:00") is None
    book(three, WED, "10:00")
    with pytest.raises(SlotFull):
        book(three, WED, "10:00")
    one = make_service(sqlite_url, make_config(lawyers_per_day=1))
    slot = one.slots(WED)[2]
    assert (slot.label, slot.capacity, slot.booked, slot.free) == ("10:00", 3, 3, 0)
    with pytest.raises(SlotFull):
        book(one, WED, "10:00")


# --- booking, idempotency, limits -----------------------------------------------------------


def test_book_keeps_everything(service):
    booking = service.book(
        date="2026-12-02", time="10:00", name="我叫王建国", phone="138 1234 5678",
        matter_summary=" 公司拖欠工资三个月 ", idempotency_key="conv-1:msg-9",
        matter_type="wage_arrears", statutory_channel="law_enforcement", conversation_id="conv-1",
    )
    assert (booking.date, booking.time, booking.time_label) == (WED, T(10, 0), "10:00")
    assert (booking.name, booking.phone, booking.matter_summary) == ("王建国", "13812345678", "公司拖欠工资三个月")
    assert (booking.matter_type, booking.statutory_channel) == ("wage_arrears", "law_enforcement")
    assert (booking.status, booking.conversation_id) == ("booked", "conv-1")
    assert booking.created_at == booking.updated_at == dt.datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)
    assert booking.start == dt.datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)
    assert service.find(booking.code.lower(), "+86 13812345678") == booking


def test_invalid_values_are_refused_before_anything_is_booked(service):
    with pytest.raises(InvalidPhone):
        book(service, WED, "10:00", phone="12345")
    with pytest.raises(InvalidName):
        book(service, WED, "10:00", name="不告诉你")
    with pytest.raises(InvalidInput) as error:
        book(service, WED, "10:00", matter_summary=" ")
    assert error.value.reason == Reason.EMPTY_SUMMARY
    assert service.slots(WED)[2].booked == 0


def test_retried_confirmation_returns_the_same_booking(service):
    first = book(service, WED, "10:00", n=1, idempotency_key="conv-7:msg-3")
    again = book(service, WED, "10:00", n=1, idempotency_key="conv-7:msg-3")
    assert again == first
    assert service.slots(WED)[2].booked == 1
    with pytest.raises(IdempotencyMismatch):
        book(service, WED, "10:30", n=1, idempotency_key="conv-7:msg-3")


def test_a_confirmation_sent_again_in_the_same_conversation_returns_the_booking_made(service):
    first = book(service, WED, "10:00", n=1, conversation_id="conv-8", idempotency_key="conv-8:msg-5")
    again = book(service, WED, "10:00", n=1, conversation_id="conv-8", idempotency_key="conv-8:msg-6")
    assert again.code == first.code and service.slots(WED)[2].booked == 1
    with pytest.raises(LimitReached):  # another conversation with the same phone is still limited
        book(service, WED, "10:00", n=1, conversation_id="conv-9", idempotency_key="conv-9:msg-1")


def test_retry_after_the_slot_filled_or_closed_still_returns_the_booking(service, clock):
    first = book(service, WED, "10:00", n=1, idempotency_key="k")
    book(service, WED, "10:00", n=2)
    clock.set(2026, 12, 2, 9, 30)  # past the cut-off, and the slot is full
    assert book(service, WED, "10:00", n=1, idempotency_key="k").code == first.code


def test_limit_per_day(service):
    book(service, WED, "10:00", n=5)
    with pytest.raises(LimitReached) as error:
        book(service, WED, "15:00", n=5)
    assert error.value.reason == Reason.LIMIT_PER_DAY


def test_limit_of_active_bookings(service, clock):
    first = book(service, FRI, "10:00", n=5)
    book(service, WED, "10:00", n=5)
    with pytest.raises(LimitReached) as error:
        book(service, D(2026, 12, 4), "10:00", n=5)
    assert error.value.reason == Reason.LIMIT_ACTIVE
    service.cancel(first.code, phone(5))
    book(service, D(2026, 12, 4), "10:00", n=5)


def test_past_bookings_do_not_count_towards_the_limits(service, clock):
    book(service, FRI, "10:00", n=5)
    book(service, WED, "10:00", n=5)
    clock.set(2026, 12, 3, 10, 0)  # Friday's and Wednesday's sessions are over
    book(service, D(2026, 12, 4), "10:00", n=5)


# --- find, cancel, reschedule, mark ---------------------------------------------------------


def test_find_needs_the_right_phone(service):
    booking = book(service, WED, "10:00", n=1)
    assert service.find(booking.code, phone(1)).code == booking.code
    with pytest.raises(NotFound):
        service.find(booking.code, phone(2))
    with pytest.raises(NotFound):
        service.find("ZZZZZZ", phone(1))
    with pytest.raises(NotFound):
        service.find("not a code", phone(1))
    with pytest.raises(InvalidPhone):
        service.find(booking.code, "123")
    assert [b.code for b in service.active_bookings(phone(1))] == [booking.code]


def test_cancel_frees_the_place(service):
    first = book(service, WED, "10:00", n=1)
    book(service, WED, "10:00", n=2)
    cancelled = service.cancel(first.code, phone(1))
    assert cancelled.status == "cancelled"
    assert service.check_slot(WED, "10:00") is None
    assert service.slots(WED)[2].booked == 1
    assert service.cancel(first.code, phone(1)) == cancelled  # a retried cancel changes nothing
    assert service.slots(WED)[2].booked == 1
    book(service, WED, "10:00", n=3)
    with pytest.raises(NotFound):
        service.cancel(first.code, phone(2))


def test_cannot_cancel_once_started(service, clock):
    booking = book(service, WED, "10:00", n=1)
    clock.set(2026, 12, 2, 10, 0)
    with pytest.raises(NotChangeable) as error:
        service.cancel(booking.code, phone(1))
    assert error.value.reason == Reason.ALREADY_STARTED


def test_reschedule_keeps_the_code_and_frees_the_old_place(service):
    first = book(service, WED, "10:00", n=1)
    book(service, WED, "10:00", n=2)
    moved = service.reschedule(first.code, phone(1), "2026-12-04", "14:30")
    assert (moved.code, moved.date, moved.time) == (first.code, D(2026, 12, 4), T(14, 30))
    assert service.slots(WED)[2].booked == 1
    assert service.slots(D(2026, 12, 4))[5].booked == 1
    assert service.find(first.code, phone(1)).date == D(2026, 12, 4)


def test_reschedule_within_the_same_day_is_not_blocked_by_the_day_limit(service):
    booking = book(service, WED, "10:00", n=1)
    moved = service.reschedule(booking.code, phone(1), WED, "15:00")
    assert moved.time == T(15, 0)
    assert service.reschedule(booking.code, phone(1), WED, "15:00") == moved  # no-op


def test_failed_reschedule_changes_nothing(service):
    booking = book(service, WED, "10:00", n=1)
    book(service, FRI, "09:00", n=2)
    book(service, FRI, "09:00", n=3)
    with pytest.raises(SlotFull):
        service.reschedule(booking.code, phone(1), FRI, "09:00")
    with pytest.raises(DateClosed):
        service.reschedule(booking.code, phone(1), D(2026, 11, 28), "09:00")
    assert service.find(booking.code, phone(1)).time == T(10, 0)
    assert service.slots(WED)[2].booked == 1
    assert service.slots(FRI)[0].booked == 2


def test_cancelled_bookings_cannot_be_moved(service):
    booking = book(service, WED, "10:00", n=1)
    service.cancel(booking.code, phone(1))
    with pytest.raises(NotChangeable) as error:
        service.reschedule(booking.code, phone(1), FRI, "09:00")
    assert error.value.reason == Reason.NOT_ACTIVE


def test_mark_attendance(service, clock):
    booking = book(service, WED, "10:00", n=1)
    with pytest.raises(NotChangeable) as error:
        service.mark(booking.code, "attended")
    assert error.value.reason == Reason.NOT_STARTED
    clock.set(2026, 12, 2, 11, 0)
    assert service.mark(booking.code, "attended").status == "attended"
    assert service.mark(booking.code, "no_show").status == "no_show"
    with pytest.raises(InvalidInput):
        service.mark(booking.code, "cancelled")
    with pytest.raises(NotChangeable):
        service.cancel(booking.code, phone(1))


# --- retention and reports ------------------------------------------------------------------


def _seed_history(service, clock):
    """Wednesday 2026-05-27 (4 bookings) and Friday 2026-05-29 (1 booking), marked afterwards."""
    clock.set(2026, 5, 20, 10, 0)
    a = book(service, D(2026, 5, 27), "09:00", n=1, matter_type="wage_arrears")
    b = book(service, D(2026, 5, 27), "09:00", n=2, matter_type="wage_arrears")
    c = book(service, D(2026, 5, 27), "10:00", n=3, matter_type="housing_delivery")
    d = book(service, D(2026, 5, 27), "10:30", n=4)
    e = book(service, D(2026, 5, 29), "09:00", n=5, matter_type="medical")
    service.cancel(d.code, phone(4))
    clock.set(2026, 5, 29, 18, 0)
    service.mark(a.code, "attended")
    service.mark(b.code, "no_show")
    service.mark(c.code, "attended")
    return e  # left unmarked


def test_report_counts_sessions_and_citizens(service, clock):
    _seed_history(service, clock)
    clock.set(2026, 6, 1, 9, 0)
    report = service.report("2026-05-01", "2026-06-30")
    assert report.sessions_held == 2                 # 05-27 and 05-29
    assert report.citizens_served == 3               # 2 attended + 1 unmarked
    assert report.served_by_matter_type == {"housing_delivery": 1, "medical": 1, "wage_arrears": 1}
    assert (report.attended, report.unmarked, report.no_show, report.cancelled) == (2, 1, 1, 1)
    assert report.session_days == [D(2026, 5, 27), D(2026, 5, 29)]
    only_wednesday = service.report("2026-05-27", "2026-05-27")
    assert (only_wednesday.sessions_held, only_wednesday.citizens_served) == (1, 2)


def test_future_bookings_are_not_counted_as_served(service):
    book(service, WED, "10:00", n=1)
    report = service.report("2026-11-01", "2026-12-31")
    assert (report.sessions_held, report.citizens_served, report.unmarked) == (0, 0, 0)


def test_purge_after_the_retention_period_keeps_the_counts(service, clock):
    _seed_history(service, clock)
    clock.set(2026, 6, 1, 9, 0)
    before = service.report("2026-05-01", "2026-06-30")

    clock.set(2026, 11, 22, 23, 59)  # 179 days after 05-27: nothing yet
    assert service.purge_expired().bookings == 0
    clock.set(2026, 11, 23, 0, 0)    # 180 days after 05-27: that day's four bookings go
    result = service.purge_expired()
    assert (result.bookings, result.before) == (4, D(2026, 5, 28))
    with service._sessions() as session:
        remaining = session.execute(select(Booking.date)).scalars().all()
        statistics = session.execute(select(func.sum(BookingStatistic.count))).scalar_one()
        columns = set(BookingStatistic.__table__.columns.keys())
    assert remaining == [D(2026, 5, 29)]
    assert statistics == 4
    assert not columns & {"name", "phone", "matter_summary", "code", "conversation_id"}

    clock.set(2026, 11, 26, 0, 0)
    assert service.purge_expired().bookings == 1
    after = service.report("2026-05-01", "2026-06-30")
    assert after == before


def test_purge_twice_adds_nothing(service, clock):
    _seed_history(service, clock)
    clock.set(2026, 12, 1, 0, 0)
    service.purge_expired()
    assert service.purge_expired().bookings == 0
    assert service.report("2026-05-01", "2026-06-30").citizens_served == 3


def test_purge_removes_handled_alerts_only(service, clock):
    clock.set(2026, 1, 5, 10, 0)
    handled = service.alerts.raise_alert("conv-a", "crisis")
    service.alerts.raise_alert("conv-b", "crisis")
    assert service.alerts.mark_handled(handled) is True
    assert service.alerts.mark_handled(handled) is False
    clock.set(2026, 11, 26, 10, 0)
    assert service.purge_expired().alerts == 1
    assert [a.conversation_id for a in service.alerts.list(include_handled=True)] == ["conv-b"]


# --- logs -------------------------------------------------------------------------------------


def test_logs_never_hold_a_phone_number_or_a_name(service, caplog):
    with caplog.at_level(logging.DEBUG):
        booking = service.book(date=WED, time="10:00", name="王建国", phone="13812345678",
                               matter_summary="欠薪", idempotency_key="k1")
        service.reschedule(booking.code, "13812345678", FRI, "09:00")
        service.cancel(booking.code, "13812345678")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "138****5678" in logged
    assert "13812345678" not in logged and "王建国" not in logged and "欠薪" not in logged


def test_service_from_environment(monkeypatch, sqlite_url, config):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("BOT_NOW", "2026-11-26T10:00")
    svc = BookingService.open(config=config)
    try:
        assert svc.check_date(FRI) is None
        assert svc.check_date(D(2026, 11, 25)) == Reason.PAST
    finally:
        svc.dispose()
