"""Session start: keep what helps the citizen, forget the personal data."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

# The matter and where it belongs stay useful when a citizen comes back after a break; names, phone
# numbers and summaries are asked again rather than kept in a new session.
CARRIED_OVER_SLOTS = ("matter_type", "statutory_channel", "triage_stage", "triage_modifiers",
                      "booking_code")


class ActionSessionStart(Action):
    def name(self) -> Text:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        carried = [
            SlotSet(slot, tracker.get_slot(slot))
            for slot in CARRIED_OVER_SLOTS
            if slot in tracker.slots and tracker.get_slot(slot) is not None
        ]
        return [SessionStarted(), *carried, ActionExecuted("action_listen")]
