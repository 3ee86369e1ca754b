"""Rasa adapter for follow-up questions on a road (actions/triage/followups.py does the answering).

After triage has named a road, "去哪申请这个复议", "仲裁要钱吗 大概多久", "上诉期是几天" or just
"要钱不" are answered for that road and the citizen's own matter, with the matter's running clock
first; a road named in the question wins over the one triage gave.

The petition procedure's own questions (ask_procedure, ask_materials) are read in the same light:
after triage gave a road other than the petition, "大概多久" or "要带什么" without a word of 信访 is
about that road, not the petition's 60 days.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.bureau import get_config
from actions.matters import matter_told, triage
from actions.triage import engine
from actions.triage.followups import get_followups

# Guidance intents whose question may be about the road given; their answer when it is not.
READ_IN_CONTEXT = {"ask_procedure": "utter_ask_procedure", "ask_materials": "utter_ask_materials"}
# Words that make a question the petition procedure's own, whatever road triage gave.
PETITION_WORDS = ("信访", "上访", "复查", "复核", "接访", "来访")


def answer_road_question(dispatcher: CollectingDispatcher, tracker: Tracker, intent: Text | None) -> List[EventType]:
    """The answer for the road ``intent`` names, or (None) the road triage gave. A conversation
    that had no road yet is about this one from now on (``statutory_channel``)."""
    message: Dict[Text, Any] = tracker.latest_message or {}
    matter_type = tracker.get_slot("matter_type")
    stage = tracker.get_slot("triage_stage")
    followups = get_followups()
    question = followups.question(
        intent=intent,
        text=message.get("text") or "",
        channel=tracker.get_slot("statutory_channel"),
        stage=stage,
        matter_type=matter_type,
    )
    if question is None:
        dispatcher.utter_message(text=followups.texts["no_road"])
        return []
    decision = None
    if matter_type:
        decision = engine.decide(matter_type, stage, tracker.get_slot("triage_modifiers") or ())
    facts = get_config().template_values()
    answer = followups.answer(question, facts, decision)
    if any(event.get("event") == "bot" and event.get("text") == answer for event in tracker.events):
        answer = followups.again(answer, facts)  # never the same long answer twice
    dispatcher.utter_message(text=answer)
    if tracker.get_slot("statutory_channel"):
        return []
    return [SlotSet("statutory_channel", question.road.channel)]


def is_about_the_road_given(tracker: Tracker) -> bool:
    channel = tracker.get_slot("statutory_channel")
    text = (tracker.latest_message or {}).get("text") or ""
    return (
        bool(channel) and channel != "petition"
        and not any(word in text for word in PETITION_WORDS)
        and bool(get_followups().topics_of(text))
    )


class ActionAnswerRoadQuestion(Action):
    def name(self) -> Text:
        return "action_answer_road_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        message = tracker.latest_message or {}
        told = matter_told(message)
        if told and told != tracker.get_slot("matter_type"):
            return triage(dispatcher, tracker, told)  # a matter of their own, told with the question
        intent = (message.get("intent") or {}).get("name")
        return answer_road_question(dispatcher, tracker, None if intent == "ask_road_detail" else intent)


class ActionAnswerGuidanceInContext(Action):
    """ask_procedure / ask_materials: the road's answer when the question is about the road given,
    the petition procedure's answer otherwise."""

    def name(self) -> Text:
        return "action_answer_guidance_in_context"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if is_about_the_road_given(tracker):
            return answer_road_question(dispatcher, tracker, None)
        else:
            dispatcher.utter_message(response=READ_IN_CONTEXT.get(intent, "utter_ask_procedure"))
        return []
