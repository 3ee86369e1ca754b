"""Forms one can leave (issue 12): at any question of any form, 不约了 / 不查了 / 算了 / 人工 ends the
form politely, and 忘了 (the booking code) gets help instead of the same question again.

``LettingGo`` is mixed into each form's validation action: before anything is validated, a message
that leaves ends the form (``requested_slot`` set to None, which Rasa reads as the form being done)
and ``form_left`` says which form was left, so that the action that usually follows a finished form
(the booking, the lookup, the reschedule, the triage answer) knows there is nothing to do.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

FORM_LEFT = "form_left"

# Short messages that give up what the form is for. Kept short on purpose (a long message that
# happens to contain 算了 is something else to be read as a whole).
LEAVE_WORDS = re.compile(
    r"不(想|要)?(约|查|改|取消|弄|办|问|说|整|搞)了|算了|算啦|以后再说|改天再说|回头再说|下次再说|"
    r"先不(约|查|改|弄|办|问|说)|不需要了|不用了|不弄啦"
)
LEAVE_MAX_CHARS = 20
# "I do not have the code": help without the code instead of asking for it again.
FORGOT_CODE = re.compile(r"忘了|忘记|不记得|记不得|记不清|没记|找不到|丢了|(没有|没|不知道)(预约)?码")
# A message with a run of digits is an answer (a phone number, a code) whatever it was classified as.
DIGITS = re.compile(r"\d{4,}")

HUMAN_INTENTS = frozenset({"request_human"})
GOODBYE_INTENTS = frozenset({"goodbye"})

STOPPED = {
    "lawyer_booking_form": "utter_booking_stopped",
    "booking_lookup_form": "utter_lookup_stopped",
    "reschedule_form": "utter_reschedule_stopped",
    "matter_stage_form": "utter_matter_stopped",
}


def why_leaving(tracker: Tracker) -> Optional[Text]:
    """``human``, ``forgot``, ``stop`` or ``goodbye`` when the latest message leaves the form that
    asked a question; None when it is an answer (or the message that started the form)."""
    asked = tracker.get_slot("requested_slot")
    if not asked:
        return None  # the form is just starting: the message that started it is not leaving it
    message: Dict[Text, Any] = tracker.latest_message or {}
    text = (message.get("text") or "").strip()
    intent = (message.get("intent") or {}).get("name")
    if text.startswith("/"):
        return "human" if text.startswith("/request_human") else None
    if intent in HUMAN_INTENTS:
        return "human"
    if DIGITS.search(text):
        return None
    if asked == "booking_code" and FORGOT_CODE.search(text):
        return "forgot"
    if len(text) <= LEAVE_MAX_CHARS and LEAVE_WORDS.search(text):
        return "stop"
    if intent in GOODBYE_INTENTS:
        return "goodbye"
    return None


def reply_for(form: Text, why: Text) -> Optional[Text]:
    if why == "human":
        return "utter_contact_staff"
    if why == "forgot":
        return "utter_booking_code_forgotten"
    if why == "goodbye":
        return None  # the goodbye rule has already said goodbye
    return STOPPED[form]


class LettingGo:
    """Mixed into a ``FormValidationAction`` (before it in the bases)."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        why = why_leaving(tracker)
        if why is None:
            return await super().run(dispatcher, tracker, domain)  # type: ignore[misc]
        form = self.form_name()  # type: ignore[attr-defined]
        response = reply_for(form, why)
        if response:
            dispatcher.utter_message(response=response)
        return [SlotSet(FORM_LEFT, form), SlotSet("requested_slot", None)]


def left_a_form(tracker: Tracker) -> bool:
    """Whether the form that just ended was left (the action that follows does nothing then)."""
    return bool(tracker.get_slot(FORM_LEFT))


CLEAR_FORM_LEFT = SlotSet(FORM_LEFT, None)
