"""The lawyer-consultation booking domain, in plain Python (no Rasa).

Entry points:

* ``BookingService`` (service.py): availability, book/find/cancel/reschedule, staff operations;
  ``BookingService.open(database_url)`` migrates the database and returns a ready service.
* ``parse_when`` / ``parse_date`` / ``parse_time_of_day`` (dates.py): Chinese date and time
  expressions resolved to the next matching future date.
* ``validate_phone`` / ``validate_name`` / ``validate_summary`` / ``find_phone`` / ``mask_phone``
  (validation.py).
* ``upgrade`` (migrate.py): bring the database schema up to date at start-up.
* ``Reason`` and the exceptions (errors.py): machine reasons the actions render in Chinese.
"""

from actions.booking.alerts import Alert, StaffAlerts
from actions.booking.calendar import DayStatus, calendar_warnings, day_status, uncovered_years
from actions.booking.dates import AFTERNOON, EVENING, MORNING, When, parse_date, parse_time_of_day, parse_when
from actions.booking.errors import (
    BookingError,
    DateClosed,
    IdempotencyMismatch,
    InvalidInput,
    InvalidName,
    InvalidPhone,
    InvalidSummary,
    LimitReached,
    NotChangeable,
    NotFound,
    Reason,
    SlotFull,
    SlotUnavailable,
)
from actions.booking.migrate import downgrade, upgrade
from actions.booking.reports import Report
from actions.booking.retention import PurgeResult
from actions.booking.service import BookingRecord, BookingService
from actions.booking.slots import Slot
from actions.booking.validation import find_phone, mask_phone, validate_name, validate_phone, validate_summary

__all__ = [
    "AFTERNOON", "Alert", "BookingError", "BookingRecord", "BookingService", "DateClosed", "DayStatus",
    "EVENING", "IdempotencyMismatch", "InvalidInput", "InvalidName", "InvalidPhone", "InvalidSummary",
    "LimitReached", "MORNING", "NotChangeable", "NotFound", "PurgeResult", "Reason", "Report", "Slot",
    "SlotFull", "SlotUnavailable", "StaffAlerts", "When", "calendar_warnings", "day_status",
    "downgrade", "find_phone", "mask_phone", "parse_date", "parse_time_of_day", "parse_when",
    "uncovered_years", "upgrade", "validate_name", "validate_phone", "validate_summary",
]
