"""The booking service: availability, booking, checking, cancelling and moving appointments.

Everything the Rasa actions and the admin command need goes through ``BookingService``; it knows
nothing of Rasa. Refusals are raised as ``BookingError`` subclasses whose ``reason`` (a ``Reason``)
the caller turns into a Chinese reply; availability questions return ``Reason`` or ``None``.

Rules (all from ``lawyer_sessions`` in bureau.yml):

* a date is bookable from today up to ``booking_window_days`` ahead, on lawyer days only (see
  ``calendar.py``), and a slot until ``cutoff_minutes`` before it starts;
* every slot takes ``lawyers_per_day`` citizens (one per lawyer on duty), enforced by the database
  (see ``models.SlotCounter``);
* abuse limits per mobile number: at most ``max_bookings_per_phone_per_day`` active bookings on one
  session day and ``max_active_bookings_per_phone`` active bookings in all (active = status
  ``booked`` on today or later). On PostgreSQL, bookings of one number are serialised with a
  transaction-level advisory lock so that concurrent requests cannot both pass a limit; SQLite
  serialises all writing transactions anyway;
* ``book()`` is idempotent: the same ``idempotency_key`` returns the same booking, never two. The
  Rasa side should derive it from the conversation and the message that confirmed, e.g.
  ``f"{tracker.sender_id}:{tracker.latest_message['message_id']}"``: a retried request repeats
  it, a later confirmation in the same conversation does not;
* a booking keeps its code when moved; the old place is freed in the same transaction;
* cancelling and moving are possible until the appointment starts, and need the code and the
  phone number that booked it (a wrong pair is ``not_found``, never "wrong phone").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import threading
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Union

from sqlalchemy import and_, case, delete, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from actions import clock as clock_module
from actions.booking import calendar, codes
from actions.booking.alerts import StaffAlerts
from actions.booking.db import create_engine_for, dialect_insert, session_factory
from actions.booking.errors import (
    BookingError,
    DateClosed,
    IdempotencyMismatch,
    InvalidInput,
    LimitReached,
    NotChangeable,
    NotFound,
    Reason,
    SlotFull,
    SlotUnavailable,
)
from actions.booking.migrate import upgrade
from actions.booking.models import ATTENDED, BOOKED, CANCELLED, NO_SHOW, Booking, Closure, SlotCounter
from actions.booking.reports import Report, build_report
from actions.booking.retention import PurgeResult, purge_expired
from actions.booking.slots import Slot, parse_slot_time, slot_start, slot_times
from actions.booking.validation import mask_phone, validate_name, validate_phone, validate_summary
from actions.bureau import BureauConfig, get_config

log = logging.getLogger(__name__)

DateLike = Union[dt.date, str]
TimeLike = Union[dt.time, str]
Clock = Callable[[], dt.datetime]
CALENDAR_REASONS = (Reason.NOT_LAWYER_DAY, Reason.HOLIDAY, Reason.CLOSURE)
MAX_KEY_LENGTH = 255  # idempotency key and conversation id columns
_TRANSACTION_ATTEMPTS = 3  # a code collision or a PostgreSQL deadlock is retried, then raised


@dataclass(frozen=True)
class BookingRecord:
    """A booking as it leaves the service (detached from the database session)."""

    code: str
    date: dt.date
    time: dt.time
    name: str
    phone: str
    matter_summary: str
    matter_type: Optional[str]
    statutory_channel: Optional[str]
    status: str
    conversation_id: Optional[str]
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def start(self) -> dt.datetime:
        return slot_start(self.date, self.time)

    @property
    def time_label(self) -> str:
        return self.time.strftime("%H:%M")

    @classmethod
    def of(cls, row: Booking) -> "BookingRecord":
        return cls(
            row.code, row.date, row.time, row.name, row.phone, row.matter_summary, row.matter_type,
            row.statutory_channel, row.status, row.conversation_id, row.created_at, row.updated_at,
        )


class BookingService:
    def __init__(
        self,
        sessions: Union[sessionmaker, Engine],
        config: Optional[BureauConfig] = None,
        clock: Optional[Clock] = None,
    ):
        if isinstance(sessions, Engine):
            self._sessions = session_factory(sessions)
            self._reads = session_factory(sessions, read_only=True)
        else:
            self._sessions = self._reads = sessions
        # SQLite has one writer at a time; threads of this process queue here instead of polling
        # the database lock (its busy handler sleeps up to 100 ms between tries). Other processes
        # (the admin command) are still handled by the busy timeout.
        dialect = self._sessions.kw["bind"].dialect.name if self._sessions.kw.get("bind") else ""
        self._write_lock = threading.Lock() if dialect == "sqlite" else contextlib.nullcontext()
        self.config = config or get_config()
        self.rules = self.config.lawyer_sessions
        self._clock = clock or clock_module.now
        self.alerts = StaffAlerts(self._sessions, self.now)

    @classmethod
    def open(
        cls,
        database_url: Optional[str] = None,
        *,
        config: Optional[BureauConfig] = None,
        clock: Optional[Clock] = None,
        migrate: bool = True,
        **engine_options,
    ) -> "BookingService":
        """The service on ``database_url`` (default ``DATABASE_URL``), migrated to the latest schema."""
        if migrate:
            upgrade(database_url)
        return cls(create_engine_for(database_url, **engine_options), config, clock)

    def dispose(self) -> None:
        """Close the connection pool (tests, the admin command)."""
        bind = self._sessions.kw.get("bind")
        if bind is not None:
            bind.dispose()

    def now(self) -> dt.datetime:
        return clock_module.as_shanghai(self._clock())

    # --- calendar and availability -------------------------------------------------------------

    def closures(self) -> Dict[dt.date, str]:
        """Closed dates: bureau.yml's ``closures`` merged with those added by the admin command."""
        with self._reads() as session:
            return self._closures(session)

    def day_status(self, day: DateLike) -> calendar.DayStatus:
        """The calendar's view of a date (holiday name or closure note in ``note``)."""
        with self._reads() as session:
            return self._day_status(session, _as_date(day))

    def last_bookable_date(self) -> dt.date:
        return self.now().date() + dt.timedelta(days=self.rules.booking_window_days)

    def check_date(self, day: DateLike) -> Optional[Reason]:
        """None if some slot of the date can still be booked, else why not: ``past``, ``too_far``,
        ``not_lawyer_day``, ``holiday``, ``closure``, ``too_late`` (every remaining slot is past
        the cut-off) or ``full``."""
        day = _as_date(day)
        with self._reads() as session:
            reason = self._date_reason(session, day)
            if reason is not None:
                return reason
            slots = self._slots(session, day, day)
        open_slots = [slot for slot in slots if self._before_cutoff(slot.start)]
        if not open_slots:
            return Reason.TOO_LATE
        if not any(slot.free for slot in open_slots):
            return Reason.FULL
        return None

    def check_slot(self, day: DateLike, time: TimeLike) -> Optional[Reason]:
        """None if the slot can be booked now, else the reason (date reasons, then ``not_a_slot``,
        ``too_late`` or ``full``)."""
        day, slot_time = _as_date(day), parse_slot_time(time)
        with self._reads() as session:
            try:
                self._raise_if_unbookable(session, day, slot_time)
            except BookingError as error:
                return error.reason
            slot = self._slots(session, day, day, [slot_time])[0]
        return None if slot.free else Reason.FULL

    def slots(self, day: DateLike) -> List[Slot]:
        """Every slot of a lawyer day with its places (also the full and past ones); [] otherwise."""
        day = _as_date(day)
        with self._reads() as session:
            if self._day_status(session, day).closed_reason is not None:
                return []
            return self._slots(session, day, day)

    def free_slots(self, day: DateLike, part_of_day: Optional[str] = None) -> List[Slot]:
        """Slots of ``day`` that can be booked now, optionally only ``morning``/``afternoon``."""
        day = _as_date(day)
        with self._reads() as session:
            if self._date_reason(session, day) is not None:
                return []
            slots = self._slots(session, day, day)
        return [s for s in slots if self._bookable(s) and part_of_day in (None, s.part_of_day)]

    def nearest_free_slots(
        self, target: Union[dt.date, dt.datetime], n: int = 3, part_of_day: Optional[str] = None
    ) -> List[Slot]:
        """The ``n`` bookable slots closest in time to ``target`` (a date means its midnight), in
        chronological order: what to offer when the wanted slot or day is not available."""
        if isinstance(target, dt.datetime):
            target = clock_module.as_shanghai(target)
        else:
            target = dt.datetime.combine(_as_date(target), dt.time(0), tzinfo=clock_module.SHANGHAI)
        today, last = self.now().date(), self.last_bookable_date()
        with self._reads() as session:
            closures = self._closures(session)
            slots = self._slots(session, today, last)
        days = {slot.date for slot in slots}
        open_days = {day for day in days if self._calendar_status(day, closures).is_lawyer_day}
        candidates = [
            slot for slot in slots
            if slot.date in open_days and self._bookable(slot) and part_of_day in (None, slot.part_of_day)
        ]
        nearest = sorted(candidates, key=lambda s: (abs(s.start - target), s.start < target))[:n]
        return sorted(nearest, key=lambda s: s.start)

    # --- bookings ------------------------------------------------------------------------------

    def book(
        self,
        *,
        date: DateLike,
        time: TimeLike,
        name: str,
        phone: str,
        matter_summary: str,
        idempotency_key: str,
        matter_type: Optional[str] = None,
        statutory_channel: Optional[str] = None,
        conversation_id: Optional[str] = None,
    ) -> BookingRecord:
        """Book a place, or return the booking already made with ``idempotency_key``.

        Raises ``InvalidPhone``, ``InvalidName``, ``InvalidSummary``, ``DateClosed``,
        ``SlotUnavailable`` (``not_a_slot``, ``too_late``), ``SlotFull``, ``LimitReached`` or
        ``IdempotencyMismatch`` (the key was used for another slot or phone).
        """
        if not idempotency_key or len(idempotency_key) > MAX_KEY_LENGTH:
            raise ValueError(f"an idempotency key of 1 to {MAX_KEY_LENGTH} characters is required")
        day, slot_time = _as_date(date), parse_slot_time(time)
        values = dict(
            name=validate_name(name),
            phone=validate_phone(phone),
            matter_summary=validate_summary(matter_summary),
            matter_type=matter_type or None,
            statutory_channel=statutory_channel or None,
            conversation_id=(conversation_id or None) and conversation_id[:MAX_KEY_LENGTH],
            idempotency_key=idempotency_key,
        )

        def transaction(session: Session) -> BookingRecord:
            self._serialize_phone(session, values["phone"])
            existing = session.execute(
                select(Booking).where(Booking.idempotency_key == idempotency_key)
            ).scalar_one_or_none()
            if existing is not None:
                if (existing.date, existing.time, existing.phone) != (day, slot_time, values["phone"]):
                    raise IdempotencyMismatch()
                return BookingRecord.of(existing)
            repeated = self._same_booking_of_conversation(session, values, day, slot_time)
            if repeated is not None:
                return BookingRecord.of(repeated)
            self._raise_if_unbookable(session, day, slot_time)
            self._check_limits(session, values["phone"], day)
            self._take_place(session, day, slot_time)
            now = self.now()
            booking = Booking(
                code=self._unused_code(session), date=day, time=slot_time, status=BOOKED,
                created_at=now, updated_at=now, **values,
            )
            session.add(booking)
            session.flush()
            log.info("booked %s on %s %s for %s", booking.code, day, slot_time.strftime("%H:%M"),
                     mask_phone(booking.phone))
            return BookingRecord.of(booking)

        return self._in_transaction(transaction)

    def find(self, code: str, phone: str) -> BookingRecord:
        """The booking with this code made with this phone; ``NotFound`` otherwise.
        A malformed phone number raises ``InvalidPhone``."""
        phone = validate_phone(phone)
        with self._reads() as session:
            return BookingRecord.of(self._find_row(session, code, phone))

    def find_by_held_code(self, code: str) -> BookingRecord:
        """The booking with this code, without asking for its phone: only for a code the conversation
        already holds (issued there, or looked up there with its phone), never for a code typed cold.
        ``NotFound`` otherwise."""
        with self._reads() as session:
            return BookingRecord.of(self._find_row(session, code, None))

    def active_bookings(self, phone: str) -> List[BookingRecord]:
        """Bookings of this phone that are still to come (for "which bookings do I have?")."""
        phone = validate_phone(phone)
        with self._reads() as session:
            rows = session.execute(
                select(Booking)
                .where(Booking.phone == phone, Booking.status == BOOKED, Booking.date >= self.now().date())
                .order_by(Booking.date, Booking.time)
            ).scalars()
            return [BookingRecord.of(row) for row in rows]

    def cancel(self, code: str, phone: str) -> BookingRecord:
        """Cancel and free the place. Cancelling a cancelled booking returns it unchanged.
        Raises ``NotFound``, ``InvalidPhone`` or ``NotChangeable`` (``not_active``,
        ``already_started``)."""
        phone = validate_phone(phone)

        def transaction(session: Session) -> BookingRecord:
            booking = self._find_row(session, code, phone, for_update=True)
            if booking.status == CANCELLED:
                return BookingRecord.of(booking)
            self._raise_unless_changeable(booking)
            self._release_place(session, booking.date, booking.time)
            booking.status = CANCELLED
            booking.updated_at = self.now()
            log.info("cancelled %s for %s", booking.code, mask_phone(booking.phone))
            return BookingRecord.of(booking)

        return self._in_transaction(transaction)

    def reschedule(self, code: str, phone: str, new_date: DateLike, new_time: TimeLike) -> BookingRecord:
        """Move a booking to another slot, keeping its code; the old place is freed in the same
        transaction. Raises what ``book`` and ``cancel`` raise."""
        phone = validate_phone(phone)
        day, slot_time = _as_date(new_date), parse_slot_time(new_time)

        def transaction(session: Session) -> BookingRecord:
            self._serialize_phone(session, phone)
            booking = self._find_row(session, code, phone, for_update=True)
            self._raise_unless_changeable(booking)
            if (booking.date, booking.time) == (day, slot_time):
                return BookingRecord.of(booking)
            self._raise_if_unbookable(session, day, slot_time)
            self._check_limits(session, phone, day, moving=booking)
            # Lock both counters in one global order so two opposite moves cannot deadlock.
            old, new = (booking.date, booking.time), (day, slot_time)
            for slot in sorted([old, new]):
                if slot == new:
                    self._take_place(session, *new)
                else:
                    self._release_place(session, *old)
            booking.date, booking.time, booking.updated_at = day, slot_time, self.now()
            log.info("moved %s to %s %s for %s", booking.code, day, slot_time.strftime("%H:%M"),
                     mask_phone(booking.phone))
            return BookingRecord.of(booking)

        return self._in_transaction(transaction)

    def mark(self, code: str, status: str) -> BookingRecord:
        """Staff: record ``attended`` or ``no_show`` (or ``booked`` to undo a mistaken mark) from
        the session day on. Cancelled bookings cannot be marked."""
        if status not in (ATTENDED, NO_SHOW, BOOKED):
            raise InvalidInput(Reason.INVALID_STATUS, status)

        def transaction(session: Session) -> BookingRecord:
            booking = self._find_row(session, code, None, for_update=True)
            if booking.status == CANCELLED:
                raise NotChangeable(Reason.NOT_ACTIVE)
            if booking.date > self.now().date():
                raise NotChangeable(Reason.NOT_STARTED)
            booking.status = status
            booking.updated_at = self.now()
            return BookingRecord.of(booking)

        return self._in_transaction(transaction)

    def bookings_on(self, day: DateLike, include_cancelled: bool = False) -> List[BookingRecord]:
        """Staff: a day's bookings in time order (for the list and the lawyers' CSV)."""
        query = select(Booking).where(Booking.date == _as_date(day))
        if not include_cancelled:
            query = query.where(Booking.status != CANCELLED)
        with self._reads() as session:
            rows = session.execute(query.order_by(Booking.time, Booking.created_at)).scalars()
            return [BookingRecord.of(row) for row in rows]

    # --- staff: closures, retention, reports ---------------------------------------------------

    def add_closure(self, day: DateLike, reason: str) -> List[BookingRecord]:
        """Close a date for new bookings. Returns the bookings already made for it, which staff must
        contact: they are not cancelled automatically."""
        day = _as_date(day)
        if not reason or not reason.strip():
            raise ValueError("a closure needs a reason")

        def transaction(session: Session) -> None:
            upsert = dialect_insert(session, Closure.__table__).values(
                date=day, reason=reason.strip(), created_at=self.now()
            )
            session.execute(upsert.on_conflict_do_update(
                index_elements=["date"], set_={"reason": upsert.excluded.reason}
            ))

        self._in_transaction(transaction)
        log.info("closed %s", day)
        return self.bookings_on(day)

    def remove_closure(self, day: DateLike) -> bool:
        """Reopen a date closed with ``add_closure`` (closures in bureau.yml stay)."""
        def transaction(session: Session) -> bool:
            result = session.execute(
                delete(Closure).where(Closure.date == _as_date(day)).execution_options(synchronize_session=False)
            )
            return result.rowcount > 0

        return self._in_transaction(transaction)

    def purge_expired(self, now: Optional[dt.datetime] = None) -> PurgeResult:
        """Delete personal data ``privacy.retention_days`` after the session, keeping anonymous
        counts (see ``retention.py``)."""
        moment = clock_module.as_shanghai(now) if now else self.now()
        result = self._in_transaction(
            lambda session: purge_expired(session, moment, self.config.privacy.retention_days)
        )
        log.info("purged %s bookings and %s handled alerts", result.bookings, result.alerts)
        return result

    def report(self, start: DateLike, end: DateLike) -> Report:
        """Figures for the half-year report (see ``reports.py`` for the definitions)."""
        with self._reads() as session:
            return build_report(session, _as_date(start), _as_date(end), self.now().date())

    # --- internals -----------------------------------------------------------------------------

    def _in_transaction(self, work):
        """Run ``work(session)`` in one transaction, retrying a code collision or a deadlock."""
        for attempt in range(1, _TRANSACTION_ATTEMPTS + 1):
            try:
                with self._write_lock, self._sessions.begin() as session:
                    return work(session)
            except (IntegrityError, OperationalError) as error:
                if attempt == _TRANSACTION_ATTEMPTS or not _retryable(error):
                    raise
                log.warning("retrying a booking transaction after %s", type(error.orig).__name__)

    def _closures(self, session: Session) -> Dict[dt.date, str]:
        merged = dict(self.rules.closures)
        merged.update(dict(session.execute(select(Closure.date, Closure.reason)).all()))
        return merged

    def _calendar_status(self, day: dt.date, closures: Dict[dt.date, str]) -> calendar.DayStatus:
        return calendar.day_status(day, self.rules.weekday_numbers, closures)

    def _day_status(self, session: Session, day: dt.date) -> calendar.DayStatus:
        return self._calendar_status(day, self._closures(session))

    def _date_reason(self, session: Session, day: dt.date) -> Optional[Reason]:
        try:
            self._raise_if_date_closed(session, day)
        except DateClosed as error:
            return error.reason
        return None

    def _raise_if_date_closed(self, session: Session, day: dt.date) -> None:
        today = self.now().date()
        if day < today:
            raise DateClosed(Reason.PAST, day)
        if day > self.last_bookable_date():
            raise DateClosed(Reason.TOO_FAR, day)
        status = self._day_status(session, day)
        if status.closed_reason is not None:
            raise DateClosed(status.closed_reason, day, status.note)

    def _raise_if_unbookable(self, session: Session, day: dt.date, slot_time: Optional[dt.time]) -> None:
        self._raise_if_date_closed(session, day)
        if slot_time is None or slot_time not in slot_times(self.rules):
            raise SlotUnavailable(Reason.NOT_A_SLOT)
        if not self._before_cutoff(slot_start(day, slot_time)):
            raise SlotUnavailable(Reason.TOO_LATE)

    def _before_cutoff(self, start: dt.datetime) -> bool:
        return self.now() <= start - dt.timedelta(minutes=self.rules.cutoff_minutes)

    def _bookable(self, slot: Slot) -> bool:
        return slot.free > 0 and self._before_cutoff(slot.start)

    def _slots(self, session: Session, first: dt.date, last: dt.date,
               times: Optional[Iterable[dt.time]] = None) -> List[Slot]:
        """Slots of the lawyer weekdays between two dates with their places taken.

        A counter's capacity follows bureau.yml but never drops below the places already taken
        (the same rule ``_take_place`` writes), so what is shown is what can be booked.
        """
        times = list(times) if times is not None else slot_times(self.rules)
        rows = session.execute(
            select(SlotCounter.date, SlotCounter.time, SlotCounter.booked)
            .where(SlotCounter.date >= first, SlotCounter.date <= last)
        ).all()
        booked = {(row.date, row.time): row.booked for row in rows}
        capacity = self.rules.lawyers_per_day
        weekdays = set(self.rules.weekday_numbers)
        result = []
        for offset in range((last - first).days + 1):
            day = first + dt.timedelta(days=offset)
            if day.weekday() not in weekdays:
                continue
            for slot_time in times:
                taken = booked.get((day, slot_time), 0)
                result.append(Slot(day, slot_time, max(capacity, taken), taken))
        return result

    def _take_place(self, session: Session, day: dt.date, slot_time: dt.time) -> None:
        """Take one place atomically or raise ``SlotFull``: the conditional UPDATE is what keeps
        concurrent bookings within capacity (the CHECK constraint is the last line of defence)."""
        capacity = self.rules.lawyers_per_day
        counters = SlotCounter.__table__
        upsert = dialect_insert(session, counters).values(date=day, time=slot_time, capacity=capacity, booked=0)
        session.execute(upsert.on_conflict_do_update(
            index_elements=["date", "time"],
            set_={"capacity": case((counters.c.booked > capacity, counters.c.booked), else_=capacity)},
        ))
        taken = session.execute(
            update(SlotCounter)
            .where(SlotCounter.date == day, SlotCounter.time == slot_time,
                   SlotCounter.booked < SlotCounter.capacity)
            .values(booked=SlotCounter.booked + 1)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:
            raise SlotFull()

    def _release_place(self, session: Session, day: dt.date, slot_time: dt.time) -> None:
        session.execute(
            update(SlotCounter)
            .where(SlotCounter.date == day, SlotCounter.time == slot_time, SlotCounter.booked > 0)
            .values(booked=SlotCounter.booked - 1)
            .execution_options(synchronize_session=False)
        )

    @staticmethod
    def _same_booking_of_conversation(session: Session, values: dict, day: dt.date,
                                      slot_time: dt.time) -> Optional[Booking]:
        """The booking this conversation already made for this phone and slot.

        A confirmation sent again because its answer was lost (a replica stopped after booking,
        before replying) carries a new message id: the citizen gets the code of the booking made,
        not a refusal for a second booking that day.
        """
        if not values["conversation_id"]:
            return None
        return session.execute(
            select(Booking).where(
                Booking.conversation_id == values["conversation_id"], Booking.phone == values["phone"],
                Booking.date == day, Booking.time == slot_time, Booking.status == BOOKED,
            )
        ).scalars().first()

    def _check_limits(self, session: Session, phone: str, day: dt.date,
                      moving: Optional[Booking] = None) -> None:
        active = and_(Booking.phone == phone, Booking.status == BOOKED, Booking.date >= self.now().date())
        if moving is not None:
            active = and_(active, Booking.id != moving.id)
        on_day = session.execute(
            select(func.count()).select_from(Booking).where(active, Booking.date == day)
        ).scalar_one()
        if on_day >= self.rules.max_bookings_per_phone_per_day:
            raise LimitReached(Reason.LIMIT_PER_DAY)
        if moving is None:
            in_all = session.execute(select(func.count()).select_from(Booking).where(active)).scalar_one()
            if in_all >= self.rules.max_active_bookings_per_phone:
                raise LimitReached(Reason.LIMIT_ACTIVE)

    def _serialize_phone(self, session: Session, phone: str) -> None:
        """On PostgreSQL, hold a transaction lock per phone number so that its limits and its
        idempotency key are checked by one request at a time (SQLite needs nothing: BEGIN
        IMMEDIATE already serialises writers)."""
        if session.get_bind().dialect.name == "postgresql":
            key = int.from_bytes(hashlib.blake2b(phone.encode(), digest_size=8).digest(), "big", signed=True)
            session.execute(select(func.pg_advisory_xact_lock(key)))

    def _find_row(self, session: Session, code: str, phone: Optional[str], for_update: bool = False) -> Booking:
        normalized = codes.normalize_code(code)
        if normalized is None:
            raise NotFound()
        query = select(Booking).where(Booking.code == normalized)
        if for_update:
            query = query.with_for_update()
        booking = session.execute(query).scalar_one_or_none()
        if booking is None or (phone is not None and booking.phone != phone):
            raise NotFound()
        return booking

    def _raise_unless_changeable(self, booking: Booking) -> None:
        if booking.status != BOOKED:
            raise NotChangeable(Reason.NOT_ACTIVE)
        if slot_start(booking.date, booking.time) <= self.now():
            raise NotChangeable(Reason.ALREADY_STARTED)

    def _unused_code(self, session: Session) -> str:
        # 31**6 codes: a collision is rare; the unique constraint catches a concurrent one.
        for _ in range(20):
            code = codes.new_code()
            if session.execute(select(Booking.id).where(Booking.code == code)).first() is None:
                return code
        raise RuntimeError("no unused booking code found")


def _as_date(value: DateLike) -> dt.date:
    if isinstance(value, dt.datetime):
        return clock_module.as_shanghai(value).date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip())


def _retryable(error: Exception) -> bool:
    if isinstance(error, IntegrityError):
        return True  # a duplicate code, or a concurrent request with the same idempotency key
    return getattr(error.orig, "pgcode", None) in ("40P01", "40001")  # deadlock, serialization
