"""Rasa adapters for the lawyer consultation booking (actions/booking does the work).

``lawyer_booking_form`` asks for the date, time, name, phone and summary, then shows everything and
asks for confirmation. Each value is checked by the booking service; a refusal is explained with the
matching ``utter_booking_refused_<reason>`` response of the domain and, where it helps, buttons with
dates or times that are still free. ``booking_lookup_form`` (code + phone) serves check, cancel and
reschedule; ``reschedule_form`` asks for the new date and time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import logging
import re
import threading
from functools import lru_cache
from typing import Any, Callable, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.booking import dates
from actions.leaving import CLEAR_FORM_LEFT, LettingGo, left_a_form
from actions.booking.errors import BookingError, DateClosed, InvalidName, LimitReached, Reason, SlotUnavailable
from actions.booking.service import BookingRecord, BookingService
from actions.booking.slots import Slot, parse_slot_time
from actions.booking.validation import mask_phone, validate_name, validate_phone, validate_summary
from actions.bureau import WEEKDAY_NAMES_ZH, get_config
from actions.staff import conversation_reference

logger = logging.getLogger(__name__)

DATES_OFFERED = 4
NEAREST_OFFERED = 3
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
STATUS_LABELS = {"booked": "已预约", "cancelled": "已取消", "attended": "已到场咨询", "no_show": "未到场"}
# Slots of one booking: cleared after it is made or abandoned, so that personal data does not
# linger in the conversation.
BOOKING_VALUE_SLOTS = (
    "booking_date", "booking_time", "citizen_name", "citizen_phone", "matter_summary",
    "booking_confirmed",
)


def in_thread(function):
    """Runs a step that waits on the database in a worker thread, so that the action server's
    event loop keeps serving other citizens meanwhile (rasa_sdk awaits coroutine validators)."""

    @functools.wraps(function)
    async def off_the_event_loop(*args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(function, *args, **kwargs)

    return off_the_event_loop


_service_lock = threading.Lock()


@lru_cache(maxsize=1)
def _open_service() -> BookingService:
    return BookingService.open()


def get_service() -> BookingService:
    """The booking service of this action server, on DATABASE_URL, migrated on first use.

    The first calls may come from several worker threads at once (``in_thread``): one opens and
    migrates, the others wait for it (lru_cache alone would let each of them run the migrations).
    """
    with _service_lock:
        return _open_service()


# Tests open a new database each: they see the cache through get_service.
get_service.cache_clear = _open_service.cache_clear
get_service.cache_info = _open_service.cache_info


# --- how dates and times are read back ---------------------------------------------------------

def date_label(day: dt.date) -> Text:
    """``12月2日（星期三）``: always absolute, never "下周三"."""
    return f"{day.month}月{day.day}日（{WEEKDAY_NAMES_ZH[day.weekday()]}）"


def time_label(time: dt.time) -> Text:
    """``上午10:00``, ``下午2:30``."""
    if time.hour < 12:
        return f"上午{time.hour}:{time.minute:02d}"
    hour = time.hour - 12 if time.hour > 12 else time.hour
    return f"下午{hour}:{time.minute:02d}"


def slot_label(day: dt.date, time: dt.time) -> Text:
    return f"{date_label(day)}{time_label(time)}"


def date_button(day: dt.date) -> Dict[Text, Text]:
    return {"title": date_label(day), "payload": f'/inform{{"date":"{day.isoformat()}"}}'}


def time_button(slot: Slot) -> Dict[Text, Text]:
    return {"title": time_label(slot.time), "payload": f'/inform{{"time":"{slot.label}"}}'}


def slot_button(slot: Slot) -> Dict[Text, Text]:
    return {
        "title": slot_label(slot.date, slot.time),
        "payload": f'/inform{{"date":"{slot.date.isoformat()}","time":"{slot.label}"}}',
    }


# --- reading values ----------------------------------------------------------------------------

def read_date(value: Any, now: dt.datetime) -> Optional[dates.When]:
    """A date from a button (ISO) or from what the citizen typed."""
    text = str(value or "").strip()
    if ISO_DATE.match(text):
        try:
            return dates.When(date=dt.date.fromisoformat(text), past=dt.date.fromisoformat(text) < now.date())
        except ValueError:
            return None
    return dates.parse_when(text, now) if text else None


def read_time(value: Any, now: dt.datetime) -> Optional[dates.When]:
    """A time from a button (HH:MM) or from what the citizen typed (十点, 下午两点半, 上午)."""
    exact = parse_slot_time(str(value or ""))
    if exact is not None:
        return dates.When(time=exact)
    return dates.parse_when(str(value or ""), now)


def free_dates(service: BookingService, count: int = DATES_OFFERED) -> List[dt.date]:
    """The next lawyer days that still have a free place."""
    found: List[dt.date] = []
    day, last = service.now().date(), service.last_bookable_date()
    while day <= last and len(found) < count:
        if service.check_date(day) is None and service.free_slots(day):
            found.append(day)
        day += dt.timedelta(days=1)
    return found


# A whole day refused for a reason that otherwise concerns one slot: its own reply (no slot to name).
DAY_REFUSALS = {Reason.FULL: "utter_booking_day_full", Reason.TOO_LATE: "utter_booking_day_too_late"}
CLOSURE_WITHOUT_REASON = "当天另有安排"


def refuse(dispatcher: CollectingDispatcher, reason: Reason | Text, buttons: Optional[List] = None, *,
           day: Optional[dt.date] = None, time: Optional[dt.time] = None, **values: Any) -> None:
    """Tells the citizen why with ``utter_booking_refused_<reason>``, giving it every value a refusal
    reply may use: the labels of ``day`` and ``time`` (the date or slot refused), the closure's reason,
    the slot length and the booking limit. Without a ``time``, a full day or one past its cut-off
    gets the day's own reply (``DAY_REFUSALS``)."""
    reason = Reason(reason)
    config = get_config().lawyer_sessions
    labels: Dict[Text, Any] = {}
    if day is not None:
        labels["date_label"] = date_label(day)
        if reason == Reason.CLOSURE and not values.get("closure_reason"):
            values["closure_reason"] = get_service().closures().get(day) or CLOSURE_WITHOUT_REASON
    if time is not None:
        labels["time_label"] = time_label(time)
        if day is not None:
            labels["slot_label"] = slot_label(day, time)
    response = f"utter_booking_refused_{reason}"
    if time is None and reason in DAY_REFUSALS:
        response = DAY_REFUSALS[reason]
    dispatcher.utter_message(
        response=response,
        buttons=buttons or [],
        slot_minutes=config.slot_minutes,
        max_active=config.max_active_bookings_per_phone,
        **{**labels, **values},
    )


def offer_dates(dispatcher: CollectingDispatcher, service: BookingService) -> None:
    days = free_dates(service)
    if days:
        dispatcher.utter_message(response="utter_booking_offer_dates", buttons=[date_button(d) for d in days])
    else:
        dispatcher.utter_message(response="utter_booking_no_free_slots")


def offer_times(dispatcher: CollectingDispatcher, service: BookingService, day: dt.date, part_of_day: Optional[Text] = None) -> None:
    slots = service.free_slots(day, part_of_day) or service.free_slots(day)
    dispatcher.utter_message(
        response="utter_booking_offer_times",
        date_label=date_label(day),
        buttons=[time_button(slot) for slot in slots],
    )


def offer_nearest(dispatcher: CollectingDispatcher, service: BookingService, target: dt.datetime) -> None:
    slots = service.nearest_free_slots(target, NEAREST_OFFERED)
    if slots:
        dispatcher.utter_message(response="utter_booking_offer_nearest", buttons=[slot_button(s) for s in slots])
    else:
        dispatcher.utter_message(response="utter_booking_no_free_slots")


# Channels whose clients render the assistant's text as Markdown (the web chat widget).
MARKDOWN_CHANNELS = ("socketio",)
# Markdown's own escapable characters; the widget's renderer shows the backslash before any other.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!])")


def as_typed(value: Any, tracker: Tracker) -> Text:
    """What the citizen typed, to be shown exactly so: in a Markdown channel Markdown's special
    characters are backslash-escaped, so "__" or "*" in a summary is not turned into formatting."""
    text = str(value or "")
    if tracker.get_latest_input_channel() in MARKDOWN_CHANNELS:
        return _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return text


def chosen_slot(tracker: Tracker) -> Tuple[dt.date, dt.time]:
    """The validated date and time of the booking being made or moved."""
    return dt.date.fromisoformat(tracker.get_slot("booking_date")), parse_slot_time(tracker.get_slot("booking_time"))


def checked(validate: Callable[[Text], Text], value: Any, dispatcher: CollectingDispatcher) -> Optional[Text]:
    """The cleaned value, or None after telling the citizen what is wrong with it."""
    try:
        return validate(str(value or ""))
    except BookingError as error:
        refuse(dispatcher, error.reason, **({"surname": error.detail} if error.reason == Reason.SURNAME_ONLY else {}))
        return None


SURNAME_QUESTION = f"utter_booking_refused_{Reason.SURNAME_ONLY}"


def last_said(tracker: Tracker) -> Optional[Text]:
    """The response the assistant said last (its name), if it said one."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            return (event.get("metadata") or {}).get("utter_action")
    return None


def said_this_turn(tracker: Tracker, response: Text) -> bool:
    """Whether ``response`` was said since the citizen's latest message."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot" and (event.get("metadata") or {}).get("utter_action") == response:
            return True
    return False


def idempotency_key(tracker: Tracker) -> Text:
    """The conversation and the message that confirmed: a retried request repeats it.

    Hashed, so that a long sender id (a WeChat openid, a web session id) cannot crowd out the
    message id and make two different confirmations look like one.
    """
    message_id = tracker.latest_message.get("message_id") or ""
    return hashlib.sha256(f"{tracker.sender_id}\0{message_id}".encode()).hexdigest()


# --- validation shared by the booking and the reschedule forms ---------------------------------

# Intents that must interrupt a form even when the message also names a day: danger, someone who
# must stop, a request for a person, and the citizen changing or leaving the booking itself.
NEVER_READ_AS_AN_ANSWER = {
    "crisis", "end_quietly", "request_human", "cancel_booking", "check_booking", "deny", "goodbye",
    "insist_petition",
}
# Only a short message is read as an answer whatever the classifier said ("周六行吗"); a longer one
# that happens to name a day ("周六去信访局开门吗，我想问问复查") is the question it seems to be.
SHORT_ANSWER = 12


def date_answer_in(message: Dict[Text, Any], now: dt.datetime) -> Optional[Text]:
    """The message, when it is a short answer naming a day that the classifier took for another topic
    (周六行吗 → "weekend opening hours"): asked for a date, that is the answer."""
    text = (message.get("text") or "").strip()
    intent = (message.get("intent") or {}).get("name")
    if not text or text.startswith("/") or len(text) > SHORT_ANSWER or intent in NEVER_READ_AS_AN_ANSWER:
        return None
    when = read_date(text, now)
    return text if when is not None and when.has_date else None


class DateAndTimeValidation:
    """Validation of ``booking_date`` and ``booking_time`` against the service."""

    async def extract_booking_date(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        # Rasa fills the slot from the date entity or, for the expected intents, the whole text; a
        # short answer the classifier took for another topic is still the answer to "哪一天".
        if tracker.get_slot("requested_slot") != "booking_date" or "booking_date" in tracker.slots_to_validate():
            return {}
        answer = await asyncio.to_thread(date_answer_in, tracker.latest_message, get_service().now())
        return {"booking_date": answer} if answer else {}

    def current_date(self, tracker: Tracker, service: BookingService) -> Optional[dt.date]:
        when = read_date(tracker.get_slot("booking_date"), service.now())
        return when.date if when and when.has_date and not when.past else None

    @in_thread
    def validate_booking_date(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if slot_value is None:  # cleared on purpose (a reason heard, see ValidateRescheduleForm)
            return {"booking_date": None}
        service = get_service()
        when = read_date(slot_value, service.now())
        if when is None or not when.has_date:
            dispatcher.utter_message(response="utter_booking_date_unclear",
                                     buttons=[date_button(d) for d in free_dates(service)])
            return {"booking_date": None}
        label = date_label(when.date)
        if when.past:
            refuse(dispatcher, Reason.PAST, day=when.date)
            offer_dates(dispatcher, service)
            return {"booking_date": None}
        reason = service.check_date(when.date)
        if reason is not None and reason != Reason.FULL:
            refuse(dispatcher, reason, day=when.date)
            offer_dates(dispatcher, service)
            return {"booking_date": None}
        if reason == Reason.FULL or not service.free_slots(when.date):
            refuse(dispatcher, Reason.FULL, day=when.date)  # the day's reply: utter_booking_day_full
            offer_nearest(dispatcher, service, dt.datetime.combine(when.date, dt.time(9)))
            return {"booking_date": None}
        if when.ambiguous:
            dispatcher.utter_message(response="utter_booking_date_ambiguous", date_label=label)

        result: Dict[Text, Any] = {"booking_date": when.date.isoformat()}
        # A time said with the date ("下周三上午十点") or chosen before it is checked against it now.
        chosen = when.time or self._time_of(tracker.get_slot("booking_time"), service)
        if chosen is not None:
            result["booking_time"] = self._checked_time(when.date, chosen, dispatcher, service)
        elif when.part_of_day:
            offer_times(dispatcher, service, when.date, when.part_of_day)
        return result

    @in_thread
    def validate_booking_time(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        service = get_service()
        when = read_time(slot_value, service.now())
        day = self.current_date(tracker, service)
        if when is None or (when.time is None and when.part_of_day is None):
            dispatcher.utter_message(response="utter_booking_time_unclear")
            if day:
                offer_times(dispatcher, service, day)
            return {"booking_time": None}
        if day is None:
            # No valid date yet: keep the time and check it once the date is known.
            return {"booking_time": when.time.strftime("%H:%M") if when.time else None}
        if when.time is None:  # only 上午 / 下午
            offer_times(dispatcher, service, day, when.part_of_day)
            return {"booking_time": None}
        return {"booking_time": self._checked_time(day, when.time, dispatcher, service)}

    @staticmethod
    def declined(slot_value: Any, dispatcher: CollectingDispatcher) -> bool:
        """A "no" at the confirmation: say how to change a value; the form asks again after it."""
        if slot_value is True:
            return False
        dispatcher.utter_message(response="utter_booking_change_hint")
        return True

    @staticmethod
    def taken_meanwhile(error: BookingError, day: dt.date, time: dt.time,
                        dispatcher: CollectingDispatcher, service: BookingService) -> Dict[Text, Any]:
        """Between the question and the confirmation the slot filled up or passed its cut-off, or the
        day was closed (or the time is no slot): say so, offer other times, ask for the time again."""
        refuse(dispatcher, error.reason, day=day, time=time)
        if error.reason == Reason.NOT_A_SLOT:
            offer_times(dispatcher, service, day)
        else:
            offer_nearest(dispatcher, service, dt.datetime.combine(day, time))
        cleared: Dict[Text, Any] = {"booking_time": None, "booking_confirmed": None}
        if isinstance(error, DateClosed):
            cleared["booking_date"] = None
        return cleared

    @staticmethod
    def _time_of(value: Any, service: BookingService) -> Optional[dt.time]:
        when = read_time(value, service.now()) if value else None
        return when.time if when else None

    @staticmethod
    def _checked_time(day: dt.date, time: dt.time, dispatcher: CollectingDispatcher, service: BookingService) -> Optional[Text]:
        reason = service.check_slot(day, time)
        if reason is None:
            return time.strftime("%H:%M")
        refuse(dispatcher, reason, day=day, time=time)
        if reason == Reason.NOT_A_SLOT:
            offer_times(dispatcher, service, day)
        else:
            offer_nearest(dispatcher, service, dt.datetime.combine(day, time))
        return None


class ValidateLawyerBookingForm(LettingGo, DateAndTimeValidation, FormValidationAction):
    def name(self) -> Text:
        return "validate_lawyer_booking_form"

    def validate_citizen_name(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        typed = (tracker.latest_message or {}).get("text") or ""
        try:
            return {"citizen_name": validate_name(str(slot_value or ""))}
        except InvalidName as first_error:
            error = first_error
        if typed and typed != slot_value:
            # The extractor may have taken a part ("刘" of "我姓刘"): what was typed, read whole.
            try:
                return {"citizen_name": validate_name(typed)}
            except InvalidName as typed_error:
                if typed_error.reason == Reason.SURNAME_ONLY:
                    error = typed_error
        if error.reason == Reason.SURNAME_ONLY and last_said(tracker) == SURNAME_QUESTION:
            return {"citizen_name": error.detail}  # asked once already: the surname will do
        refuse(dispatcher, error.reason, **({"surname": error.detail} if error.detail else {}))
        return {"citizen_name": None}

    def validate_citizen_phone(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return {"citizen_phone": checked(validate_phone, slot_value, dispatcher)}

    def validate_matter_summary(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return {"matter_summary": checked(validate_summary, slot_value, dispatcher)}

    @in_thread
    def validate_booking_confirmed(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if self.declined(slot_value, dispatcher):
            return {"booking_confirmed": None}
        service = get_service()
        day, time = chosen_slot(tracker)
        try:
            booking = service.book(
                date=tracker.get_slot("booking_date"),
                time=tracker.get_slot("booking_time"),
                name=tracker.get_slot("citizen_name"),
                phone=tracker.get_slot("citizen_phone"),
                matter_summary=tracker.get_slot("matter_summary"),
                matter_type=tracker.get_slot("matter_type"),
                statutory_channel=tracker.get_slot("statutory_channel"),
                conversation_id=tracker.sender_id,
                idempotency_key=idempotency_key(tracker),
            )
        except (SlotUnavailable, DateClosed) as error:
            return self.taken_meanwhile(error, day, time, dispatcher, service)
        except LimitReached as error:
            refuse(dispatcher, error.reason, day=day, time=time)
            return {"booking_confirmed": False}
        except BookingError as error:  # a value turned invalid between question and confirmation
            refuse(dispatcher, error.reason, day=day, time=time)
            return {"booking_confirmed": None}
        logger.info("Booking %s made for %s in conversation %s", booking.code,
                    mask_phone(booking.phone), conversation_reference(tracker.sender_id))
        return {"booking_confirmed": True, "booking_code": booking.code}


class ActionAskBookingDate(Action):
    def name(self) -> Text:
        return "action_ask_booking_date"

    @in_thread
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        offer_dates(dispatcher, get_service())
        return []


class ActionAskBookingTime(Action):
    def name(self) -> Text:
        return "action_ask_booking_time"

    @in_thread
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        service = get_service()
        day = DateAndTimeValidation().current_date(tracker, service)
        if day is None:
            offer_dates(dispatcher, service)
            return [SlotSet("booking_date", None)]
        if said_this_turn(tracker, "utter_booking_offer_times"):
            return []  # the validation has just offered the times of the part of day asked for
        offer_times(dispatcher, service, day)
        return []


class ActionAskBookingConfirmed(Action):
    """Reads everything back, absolutely, and asks for confirmation."""

    def name(self) -> Text:
        return "action_ask_booking_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        day, time = chosen_slot(tracker)
        when = slot_label(day, time)
        if tracker.active_loop_name == "reschedule_form":
            text = f"把预约（{tracker.get_slot('booking_code')}）改到{when}，对吗？"
        else:
            text = (
                "请核对预约信息：\n"
                f"· 时间：{when}\n"
                f"· 地点：{get_config().template_values()['bureau_address']}\n"
                f"· 姓名：{as_typed(tracker.get_slot('citizen_name'), tracker)}\n"
                f"· 电话：{tracker.get_slot('citizen_phone')}\n"
                f"· 咨询事项：{as_typed(tracker.get_slot('matter_summary'), tracker)}\n"
                "信息对的话请点“确认预约”。"
            )
        dispatcher.utter_message(
            text=text,
            buttons=[{"title": "确认预约", "payload": "/affirm"}, {"title": "要修改", "payload": "/deny"}],
        )
        return []


class ActionBookingDone(Action):
    """After the booking form: the confirmation, then forget the personal values."""

    def name(self) -> Text:
        return "action_booking_done"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        code = tracker.get_slot("booking_code")
        if left_a_form(tracker):
            return [SlotSet(slot, None) for slot in BOOKING_VALUE_SLOTS] + [CLEAR_FORM_LEFT]
        if tracker.get_slot("booking_confirmed") is True and code:
            day, time = chosen_slot(tracker)
            dispatcher.utter_message(response="utter_booking_success", booking_code=code,
                                     slot_label=slot_label(day, time))
        return [SlotSet(slot, None) for slot in BOOKING_VALUE_SLOTS]


# --- check, cancel, reschedule -----------------------------------------------------------------

class ValidateBookingLookupForm(LettingGo, FormValidationAction):
    def name(self) -> Text:
        return "validate_booking_lookup_form"

    def validate_booking_code(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        from actions.booking.codes import normalize_code

        code = normalize_code(str(slot_value or ""))
        if code is None:
            dispatcher.utter_message(response="utter_booking_code_invalid")
        return {"booking_code": code}

    def validate_citizen_phone(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return {"citizen_phone": checked(validate_phone, slot_value, dispatcher)}


def _find(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[BookingRecord]:
    try:
        return get_service().find(tracker.get_slot("booking_code"), tracker.get_slot("citizen_phone"))
    except BookingError as error:
        refuse(dispatcher, error.reason)
        return None


def booking_labels(booking: BookingRecord) -> Dict[Text, Text]:
    """What a reply showing a booking fills in: its code, time and status."""
    return {"booking_code": booking.code, "slot_label": slot_label(booking.date, booking.time),
            "status_label": STATUS_LABELS.get(booking.status, booking.status)}


# The phone is asked again next time; booking_request stays, as the rule that ran this action
# expects it to (it is replaced by the next check, cancel or reschedule request).
LOOKUP_RESET = [SlotSet("citizen_phone", None)]


class ActionCheckBooking(Action):
    def name(self) -> Text:
        return "action_check_booking"

    @in_thread
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if left_a_form(tracker):
            return LOOKUP_RESET + [CLEAR_FORM_LEFT]
        booking = _find(dispatcher, tracker)
        if booking:
            dispatcher.utter_message(response="utter_booking_found", **booking_labels(booking))
        return LOOKUP_RESET


class ActionInformOutsideForm(Action):
    """A date, time or name given when no form asks for one.

    With a booking code in the conversation (booked or looked up in it), the citizen is asking about
    that booking ("上午还是下午？", "是周三吧"): show it, with the ways to change it. Without one, ask
    whether they want to book.
    """

    def name(self) -> Text:
        return "action_inform_outside_form"

    @in_thread
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        code = tracker.get_slot("booking_code")
        booking = None
        if code:
            try:
                booking = get_service().find_by_held_code(code)
            except BookingError:
                booking = None
        if booking is None:
            dispatcher.utter_message(response="utter_inform_without_booking")
            return []
        dispatcher.utter_message(response="utter_booking_in_conversation", **booking_labels(booking))
        return []


class ActionCancelBooking(Action):
    def name(self) -> Text:
        return "action_cancel_booking"

    @in_thread
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if left_a_form(tracker):
            return LOOKUP_RESET + [CLEAR_FORM_LEFT]
        try:
            booking = get_service().cancel(tracker.get_slot("booking_code"), tracker.get_slot("citizen_phone"))
        except BookingError as error:
            refuse(dispatcher, error.reason)
            return LOOKUP_RESET
        dispatcher.utter_message(response="utter_booking_cancelled", booking_code=booking.code,
                                 slot_label=slot_label(booking.date, booking.time))
        return LOOKUP_RESET


# How close to the best intent "reschedule" must rank for a message inside the reschedule form to be
# read as the reason for moving ("那天得去医院复查") rather than as a new topic (a medical dispute).
REASON_MARGIN = 0.35


def gives_a_reason_to_move(message: Dict[Text, Any]) -> bool:
    """A message with no date or time in it that the classifier reads as (nearly) a request to move
    the booking: inside the reschedule form that is the reason, not a new topic."""
    if any(entity.get("entity") in ("date", "time") for entity in message.get("entities") or []):
        return False
    ranking = [e for e in message.get("intent_ranking") or [] if e.get("name") != "nlu_fallback"]
    if not ranking:
        return False
    best = ranking[0].get("confidence", 0.0)
    return any(
        entry.get("name") == "reschedule_booking" and best - entry.get("confidence", 0.0) <= REASON_MARGIN
        for entry in ranking[:3]
    )


class ValidateRescheduleForm(LettingGo, DateAndTimeValidation, FormValidationAction):
    def name(self) -> Text:
        return "validate_reschedule_form"

    async def extract_booking_date(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        # Read in context: asked for the new date, "那天要去医院" is why, not a medical dispute. Say
        # it was heard and ask again (a slot set here keeps the form from handing the turn to triage).
        if tracker.get_slot("requested_slot") == "booking_date" and gives_a_reason_to_move(tracker.latest_message):
            dispatcher.utter_message(response="utter_reschedule_reason_heard")
            return {"booking_date": None}
        return await super().extract_booking_date(dispatcher, tracker, domain)

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        # The lookup before it was left: nothing to move. A booking that cannot be found ends the
        # form at once; action_reschedule_done explains.
        if left_a_form(tracker):
            return []
        try:
            await asyncio.to_thread(
                get_service().find, tracker.get_slot("booking_code"), tracker.get_slot("citizen_phone")
            )
        except BookingError:
            return []
        return domain_slots

    @in_thread
    def validate_booking_confirmed(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if self.declined(slot_value, dispatcher):
            return {"booking_confirmed": None}
        service = get_service()
        day, time = chosen_slot(tracker)
        try:
            service.reschedule(tracker.get_slot("booking_code"), tracker.get_slot("citizen_phone"), day, time)
        except (SlotUnavailable, DateClosed) as error:
            return self.taken_meanwhile(error, day, time, dispatcher, service)
        except BookingError as error:
            refuse(dispatcher, error.reason, day=day, time=time)
            return {"booking_confirmed": False}
        return {"booking_confirmed": True}


class ActionRescheduleDone(Action):
    def name(self) -> Text:
        return "action_reschedule_done"

    @in_thread
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if left_a_form(tracker):
            return LOOKUP_RESET + [SlotSet(slot, None) for slot in BOOKING_VALUE_SLOTS] + [CLEAR_FORM_LEFT]
        if tracker.get_slot("booking_confirmed") is True:
            day, time = chosen_slot(tracker)
            dispatcher.utter_message(response="utter_booking_rescheduled",
                                     booking_code=tracker.get_slot("booking_code"),
                                     slot_label=slot_label(day, time))
        else:
            _find(dispatcher, tracker)  # explains why the booking could not be moved
        return LOOKUP_RESET + [SlotSet(slot, None) for slot in BOOKING_VALUE_SLOTS]
