"""Flag a conversation for the bureau's staff (crisis language), and mark the next message for the
crisis follow-up (``crisis_followup``, see actions/crisis.py)."""

from __future__ import annotations

import hashlib
import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

logger = logging.getLogger(__name__)


def conversation_reference(sender_id: Text) -> Text:
    """A short stable reference for logs that does not reveal a WeChat openid."""
    return hashlib.sha256(sender_id.encode()).hexdigest()[:12]


class ActionFlagForStaff(Action):
    """Records a staff alert (listed by `python -m actions.admin alerts`) and logs a reference."""

    def name(self) -> Text:
        return "action_flag_for_staff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        from actions.booking_form import get_service

        try:
            get_service().alerts.raise_alert(tracker.sender_id, "crisis")
        except Exception:  # the safety reply has been given; a database fault must not hide it
            logger.exception("Could not record the staff alert")
        logger.warning("Staff alert: crisis language in conversation %s", conversation_reference(tracker.sender_id))
        events: List[EventType] = [SlotSet("staff_alert", "crisis"), SlotSet("crisis_followup", True)]
        if tracker.active_loop.get("name") == "matter_stage_form":
            # The stage question's answer is taken from any text; a crisis message is not one.
            events.append(SlotSet("matter_stage", None))
        return events
