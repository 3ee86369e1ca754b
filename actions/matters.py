"""Rasa adapters for the statutory-channel triage (actions/triage does the deciding).

A citizen describes a matter -> ``matter_type`` is set by the intent (domain slot mappings) ->
``matter_stage_form`` asks the one stage question only when the rules say the stage decides the
channel and the message did not tell it -> ``action_triage`` answers where to go, why, the deadline
and what to bring, and sets ``statutory_channel``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.bureau import get_config
from actions.leaving import CLEAR_FORM_LEFT, LettingGo, left_a_form
from actions.fallback import TOPIC_TITLES
from actions.triage import engine

UNKNOWN_STAGE = "unknown"  # the citizen answered, but not in a way that tells the stage
MATTER_PREFIX = "matter_"
# A second matter intent this confident in the same message counts as a second matter. Below it,
# the runner-up is the classifier's doubt, not something the citizen said: "您还提到了别的事情"
# would offer a topic never mentioned (issue 12).
SECOND_MATTER_CONFIDENCE = 0.3

# A petition already answered, or a 复查 opinion received.
PETITION_ANSWER_STAGES = frozenset({"petition_answered", "recheck_answered"})

LAWYER_BUTTONS = [
    {"title": "预约免费律师咨询", "payload": "/book_lawyer"},
    {"title": "法律援助怎么申请", "payload": "/ask_legal_aid"},
]


def _stage_values(message: Dict[Text, Any]) -> List[Text]:
    return [
        entity.get("value")
        for entity in message.get("entities") or []
        if entity.get("entity") == "matter_stage"
    ]


def _stage_entities(tracker: Tracker) -> List[Text]:
    """The stage and situation the citizen told: in the latest message, and when that was a tap on
    a topic button (“/matter_civil_dispute”, offered when the assistant was unsure), in the message
    the button answered, so that 合同写了找仲裁委 is not forgotten by the tap."""
    values = _stage_values(tracker.latest_message)
    if (tracker.latest_message.get("text") or "").startswith("/"):
        said = [e for e in tracker.events if e.get("event") == "user"]
        if len(said) >= 2:
            values += _stage_values(said[-2].get("parse_data") or {})
    return values


def _known_stage(value: Optional[Text]) -> Optional[Text]:
    """The slot's stage for the engine: None when not known."""
    return value if value in engine.STAGES else None


def _second_matter(tracker: Tracker, matter_type: Optional[Text]) -> Optional[Text]:
    ranking = tracker.latest_message.get("intent_ranking") or []
    for entry in ranking[1:3]:
        name = entry.get("name", "")
        if (
            name.startswith(MATTER_PREFIX)
            and name != f"{MATTER_PREFIX}{matter_type}"
            and entry.get("confidence", 0.0) >= SECOND_MATTER_CONFIDENCE
        ):
            return name
    return None


# Only a message this surely about another matter replaces the one whose stage was asked for: the
# classifier reads "村干部说没钱，让我们等" as misconduct at 0.85, but it answers the question asked.
NEW_MATTER_CONFIDENCE = 0.95


def matter_before_this_message(tracker: Tracker) -> Optional[Text]:
    """The matter type as it was before the citizen's latest message (slot mappings may have
    changed it since)."""
    events = list(tracker.events)
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    value = None
    for event in events[:last_user]:
        if event.get("event") == "slot" and event.get("name") == "matter_type":
            value = event.get("value")
    return value


class ValidateMatterStageForm(LettingGo, FormValidationAction):
    """Asks for the stage only where it decides the channel and is not known yet."""

    def name(self) -> Text:
        return "validate_matter_stage_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        # The answer to the stage question is an answer: a guess that it describes another matter
        # ("村干部说没钱" read as misconduct) does not replace the matter being asked about.
        kept: List[EventType] = []
        previous = matter_before_this_message(tracker)
        intent = tracker.latest_message.get("intent") or {}
        if (tracker.get_slot("requested_slot") == "matter_stage" and previous
                and previous != tracker.get_slot("matter_type")
                and intent.get("confidence", 0.0) < NEW_MATTER_CONFIDENCE):
            kept = [SlotSet("matter_type", previous)]
            tracker.add_slots(kept)
        return kept + await super().run(dispatcher, tracker, domain)

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        matter_type = tracker.get_slot("matter_type")
        stage = tracker.get_slot("matter_stage")
        if matter_type is None or stage == UNKNOWN_STAGE:
            return []
        stage, _ = engine.pick_stage(_stage_entities(tracker) + [stage])
        return ["matter_stage"] if engine.needs_stage_question(matter_type, stage) else []

    def validate_matter_stage(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        if slot_value in engine.STAGES:
            return {"matter_stage": slot_value}
        if tracker.latest_message.get("intent", {}).get("name") == "deny":
            return {"matter_stage": "none"}  # "没有": no proceedings have begun
        stage = engine.stage_from_answer(str(slot_value or ""))
        return {"matter_stage": stage or UNKNOWN_STAGE}


class ActionAskMatterStage(Action):
    def name(self) -> Text:
        return "action_ask_matter_stage"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        question = engine.stage_question(tracker.get_slot("matter_type"))
        dispatcher.utter_message(
            text=question.text,
            buttons=[
                {"title": b.title, "payload": f'/inform{{"matter_stage":"{b.stage}"}}'}
                for b in question.buttons
            ],
        )
        return []


class ActionTriage(Action):
    """Tells the citizen where the matter belongs, and why."""

    def name(self) -> Text:
        return "action_triage"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        matter_type = tracker.get_slot("matter_type")
        if left_a_form(tracker):
            return [CLEAR_FORM_LEFT, SlotSet("matter_stage", None)]  # the citizen stopped: no answer now
        if matter_type is None:
            dispatcher.utter_message(response="utter_ask_describe_matter")
            return []
        return triage(dispatcher, tracker, matter_type)


def triage(dispatcher: CollectingDispatcher, tracker: Tracker, matter_type: Text) -> List[EventType]:
    """Where the matter belongs, said to the citizen; the slots that remember the decision."""
    stage, modifiers = engine.pick_stage(
        _stage_entities(tracker) + [_known_stage(tracker.get_slot("matter_stage"))]
    )
    decision = engine.decide(matter_type, stage, modifiers)
    facts = get_config().template_values()
    dispatcher.utter_message(
        text=engine.render(decision, facts),
        buttons=LAWYER_BUTTONS if decision.offer_lawyer else [],
    )
    second = _second_matter(tracker, matter_type)
    if second:
        dispatcher.utter_message(
            text=engine.get_rules().render_text("more_matters", facts),
            buttons=[{"title": TOPIC_TITLES[second], "payload": f"/{second}"}],
        )
    # matter_stage is cleared so that the next matter starts afresh; triage_stage and
    # triage_modifiers remember what this decision was based on, for a citizen who then
    # insists on petitioning.
    return [
        SlotSet("matter_type", matter_type),
        SlotSet("statutory_channel", decision.channel),
        SlotSet("triage_stage", stage),
        SlotSet("triage_modifiers", list(decision.modifiers)),
        SlotSet("matter_stage", None),
    ]


def matter_told(message: Dict[Text, Any]) -> Optional[Text]:
    """The citizen's own matter, when a message that asks about a road also tells where their
    matter stands ("已经申请仲裁了，仲裁委到现在还没开庭"): a stage in it, and a matter among the
    three likeliest intents."""
    if not _stage_values(message):
        return None
    for entry in (message.get("intent_ranking") or [])[:3]:
        name = entry.get("name") or ""
        if name.startswith(MATTER_PREFIX):
            return name[len(MATTER_PREFIX):]
    return None


class ActionExplainSeparation(Action):
    """A citizen insists on petitioning: explain 诉访分离 respectfully, offer the lawyer."""

    def name(self) -> Text:
        return "action_explain_separation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        matter_type = tracker.get_slot("matter_type")
        decision = (
            engine.decide(matter_type, tracker.get_slot("triage_stage"),
                          tracker.get_slot("triage_modifiers") or ())
            if matter_type else None
        )
        if decision is None:
            stage, _ = engine.pick_stage(_stage_entities(tracker))
            if stage in PETITION_ANSWER_STAGES:
                # 信访了，答复不满意，下一步找谁: the road inside the petition procedure is 复查, then
                # 复核 (Art. 35, 36), with its 30-day clock.
                dispatcher.utter_message(response="utter_ask_review")
                return [SlotSet("statutory_channel", "petition")]
        if decision is None or not engine.insist_applies(decision):
            # Nothing says the matter belongs elsewhere: the petition channels are open to them.
            dispatcher.utter_message(response="utter_ask_channels")
            return []
        dispatcher.utter_message(
            text=engine.render_insist(decision, get_config().template_values()),
            buttons=LAWYER_BUTTONS[:1],
        )
        return []
