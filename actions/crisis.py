"""The message right after a crisis reply: stay with the person, then return to the matter.

The crisis reply's ``action_flag_for_staff`` sets ``crisis_followup``; the rules of
``data/rules/crisis.yml`` then run ``action_crisis_followup`` before whatever the next message would
get. It says a short word that fits that message, with the way to a person (a 找工作人员 button), and
clears the slot:

* a matter or a question: ``utter_crisis_followup_matter``, then triage or the answer. The matter is
  read in the light of the crisis message: when that message was about a matter too (its classifier
  ranking, kept under ``crisis``), and the new message could be about the same one, that matter is the
  one triaged. 安置费停了，我真不想活了 then 房租都交不起了 is the resettlement matter, not a dispute
  with a landlord;
* a goodbye: ``utter_crisis_goodbye``; a request for a person (after ``utter_contact_staff``):
  ``utter_crisis_followup_staff``;
* anything else (嗯, 谢谢, a message not understood): ``utter_crisis_followup`` alone, with a button to
  go on with the crisis message's matter when it had one.

Which of a response's variations is said is decided by ``bot/nlg.py`` (in turn, by how often the
conversation has heard it).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import TOPIC_TITLES

FOLLOWUP_SLOT = "crisis_followup"
CRISIS_INTENT = "crisis"
MATTER_PREFIX = "matter_"
# A matter intent at least this likely in the crisis message is what that message was about.
CRISIS_MATTER_CONFIDENCE = 0.2
# The new message could be about the crisis message's matter: that matter is among its likeliest
# three matters with at least this confidence, and its own best matter is not clearly something else.
SAME_MATTER_CONFIDENCE = 0.1
CLEARLY_ANOTHER_MATTER = 0.7

MATTER_OR_QUESTION = {"insist_petition", "book_lawyer", "check_booking", "cancel_booking", "reschedule_booking"}


def _intent(parse_data: Dict[Text, Any]) -> Text:
    return (parse_data.get("intent") or {}).get("name") or ""


def crisis_message_matter(tracker: Tracker) -> Optional[Text]:
    """The matter intent the last crisis message was about, or None."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        if _intent(parse) != CRISIS_INTENT:
            continue
        for entry in parse.get("intent_ranking") or []:
            name = entry.get("name") or ""
            if name.startswith(MATTER_PREFIX) and (entry.get("confidence") or 0.0) >= CRISIS_MATTER_CONFIDENCE:
                return name
        return None
    return None


def matter_in_context(latest: Dict[Text, Any], crisis_matter: Optional[Text]) -> Optional[Text]:
    """The matter intent the latest message is about, read after a crisis message about
    ``crisis_matter``: that one when the latest message could be about it too."""
    intent = latest.get("intent") or {}
    name = intent.get("name") or ""
    if not crisis_matter or not name.startswith(MATTER_PREFIX) or name == crisis_matter:
        return None
    ranking = latest.get("intent_ranking") or []
    own = next((e.get("confidence") for e in ranking if e.get("name") == name), intent.get("confidence"))
    if (own or 0.0) >= CLEARLY_ANOTHER_MATTER:
        return None
    matters = [e for e in ranking if (e.get("name") or "").startswith(MATTER_PREFIX)]
    for entry in matters[:3]:
        if entry.get("name") == crisis_matter and (entry.get("confidence") or 0.0) >= SAME_MATTER_CONFIDENCE:
            return crisis_matter
    return None


class ActionCrisisFollowup(Action):
    def name(self) -> Text:
        return "action_crisis_followup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        events: List[EventType] = [SlotSet(FOLLOWUP_SLOT, None)]
        latest = tracker.latest_message or {}
        intent = _intent(latest)
        crisis_matter = crisis_message_matter(tracker)
        if intent == "request_human":
            dispatcher.utter_message(response="utter_crisis_followup_staff")
        elif intent == "goodbye":
            dispatcher.utter_message(response="utter_crisis_goodbye")
        elif intent.startswith(MATTER_PREFIX) or intent.startswith("ask_") or intent in MATTER_OR_QUESTION:
            dispatcher.utter_message(response="utter_crisis_followup_matter")
            matter = matter_in_context(latest, crisis_matter)
            if matter:
                events.append(SlotSet("matter_type", matter[len(MATTER_PREFIX):]))
        else:
            buttons = []
            if crisis_matter in TOPIC_TITLES:
                buttons.append({"title": f"接着说：{TOPIC_TITLES[crisis_matter]}", "payload": f"/{crisis_matter}"})
            dispatcher.utter_message(response="utter_crisis_followup", buttons=buttons)
        return events
