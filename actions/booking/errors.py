"""Reason codes and exceptions of the booking domain.

The domain never writes a sentence for the citizen: every refusal carries a machine reason (a
``Reason``, which is also a plain ``str``) and the Rasa actions render the Chinese reply from it.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Optional


class Reason(str, Enum):
    # Why a date cannot be booked (calendar and window).
    PAST = "past"                        # the date is before today
    TOO_FAR = "too_far"                  # beyond the booking window
    NOT_LAWYER_DAY = "not_lawyer_day"    # not one of the configured weekdays
    HOLIDAY = "holiday"                  # statutory holiday or its day off in lieu
    CLOSURE = "closure"                  # closed by the operator (bureau.yml or the admin command)
    # Why a date or slot cannot be booked although the day is open.
    NOT_A_SLOT = "not_a_slot"            # no appointment starts at that time
    TOO_LATE = "too_late"                # the booking cut-off before the slot has passed
    FULL = "full"                        # every place of the slot (or of the day) is taken
    # Input that failed validation.
    INVALID_PHONE = "invalid_phone"      # not a phone number at all
    NOT_MOBILE = "not_mobile"            # a valid number, but not a mainland China mobile
    INVALID_NAME = "invalid_name"
    NAME_TOO_LONG = "name_too_long"
    SURNAME_ONLY = "surname_only"        # "我姓刘": asked once what the lawyer should call them
    EMPTY_SUMMARY = "empty_summary"
    SUMMARY_TOO_LONG = "summary_too_long"
    INVALID_STATUS = "invalid_status"
    # Limits and state.
    LIMIT_PER_DAY = "limit_per_day"      # max_bookings_per_phone_per_day reached for that date
    LIMIT_ACTIVE = "limit_active"        # max_active_bookings_per_phone reached
    NOT_FOUND = "not_found"              # no such code, or the phone does not match it
    NOT_ACTIVE = "not_active"            # cancelled, attended or no-show: cannot be changed
    ALREADY_STARTED = "already_started"  # the appointment has begun or is over
    NOT_STARTED = "not_started"          # attendance cannot be marked before the session day
    IDEMPOTENCY_MISMATCH = "idempotency_mismatch"  # key reused for a different booking

    def __str__(self) -> str:  # f"{reason}" gives "past", not "Reason.PAST"
        return self.value


class BookingError(Exception):
    """Base of every refusal; ``reason`` says why, ``detail`` adds a fact (e.g. a closure note)."""

    def __init__(self, reason: Reason, detail: Optional[str] = None):
        self.reason = Reason(reason)
        self.detail = detail
        super().__init__(f"{self.reason}" + (f": {detail}" if detail else ""))


class InvalidInput(BookingError):
    """A value given by the citizen failed validation."""


class InvalidPhone(InvalidInput):
    pass


class InvalidName(InvalidInput):
    pass


class InvalidSummary(InvalidInput):
    pass


class DateClosed(BookingError):
    """The date cannot be booked: past, too_far, not_lawyer_day, holiday or closure."""

    def __init__(self, reason: Reason, day: dt.date, detail: Optional[str] = None):
        self.date = day
        super().__init__(reason, detail)


class SlotUnavailable(BookingError):
    """The day is open but this time is not bookable: not_a_slot, too_late or full."""


class SlotFull(SlotUnavailable):
    def __init__(self, detail: Optional[str] = None):
        super().__init__(Reason.FULL, detail)


class LimitReached(BookingError):
    """An abuse limit of the phone number: limit_per_day or limit_active."""


class NotFound(BookingError):
    """No booking with that code for that phone (the two are never told apart, on purpose)."""

    def __init__(self) -> None:
        super().__init__(Reason.NOT_FOUND)


class NotChangeable(BookingError):
    """The booking exists but cannot change this way: not_active, already_started, not_started."""


class IdempotencyMismatch(BookingError):
    """The idempotency key already belongs to a booking for another slot or phone."""

    def __init__(self) -> None:
        super().__init__(Reason.IDEMPOTENCY_MISMATCH)
