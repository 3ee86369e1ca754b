"""Two-stage fallback: first offer the likeliest topics, then a person.

Stage one turns the classifier's ranking into buttons with titles a citizen understands. When the
classifier was sure enough but torn between two intents (the FallbackClassifier's ambiguity
threshold), it offers exactly those two, "您是想问哪一个", instead of a guess; otherwise the likeliest
three. If the next message is not understood either, stage two gives the bureau's contact details
instead of guessing again: a citizen who is misunderstood twice should talk to a person.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

FALLBACK_INTENT = "nlu_fallback"
TOPICS_OFFERED = 3

TOPIC_TITLES: Dict[Text, Text] = {
    "ask_channels": "有哪些反映问题的渠道",
    "ask_online_petition": "怎么网上信访",
    "ask_office_info": "信访局地址、电话和接待时间",
    "ask_procedure": "信访的办理流程和时限",
    "ask_review": "对处理意见不满意（复查、复核）",
    "ask_visit_rules": "来访要注意什么",
    "ask_progress": "查询信访办理进度",
    "ask_materials": "需要准备哪些材料",
    "ask_lawyer_service": "免费值班律师咨询",
    "ask_legal_aid": "法律援助",
    "ask_admin_review": "行政复议怎么申请",
    "ask_arbitration": "劳动仲裁怎么申请",
    "ask_lawsuit": "起诉、上诉、再审、执行",
    "ask_report_misconduct": "举报干部：能否匿名、会不会被报复",
    "book_lawyer": "预约律师咨询",
    "check_booking": "查询我的预约",
    "cancel_booking": "取消预约",
    "reschedule_booking": "改约时间",
    "request_human": "找工作人员",
    "matter_housing_delivery": "买的房子不交房、烂尾",
    "matter_house_refund": "退房退款",
    "matter_resettlement": "安置房、临时安置费",
    "matter_land_expropriation": "征地拆迁补偿",
    "matter_utilities": "水电气、一户一表",
    "matter_school_enrollment": "孩子上学入学",
    "matter_wage_arrears": "拖欠工资",
    "matter_labor_dispute": "劳动纠纷（辞退、工伤、加班费）",
    "matter_social_security": "社保、养老金、医保、低保",
    "matter_court_case": "已经在打官司或判决不执行",
    "matter_admin_decision": "对罚款、处罚等决定不服",
    "matter_official_misconduct": "举报干部违纪违法",
    "matter_civil_dispute": "邻里、家庭、借贷纠纷",
    "matter_consumer": "买东西、消费纠纷",
    "matter_environment": "污染、噪音",
    "matter_medical": "医疗纠纷",
    "matter_suggestion": "提建议",
}


def likeliest_topics(ranking: List[Dict[Text, Any]], count: int = TOPICS_OFFERED) -> List[Text]:
    """The best-ranked intents that make sense as a topic button."""
    ordered = sorted(ranking, key=lambda entry: entry.get("confidence", 0.0), reverse=True)
    return [entry["name"] for entry in ordered if entry.get("name") in TOPIC_TITLES][:count]


def ambiguous_pair(ranking: List[Dict[Text, Any]]) -> Optional[List[Text]]:
    """The two intents the classifier could not choose between, when that is why it fell back.

    The FallbackClassifier puts ``nlu_fallback`` first with its threshold as confidence; a best intent
    at or above that threshold means the message fell back for ambiguity, not for low confidence.
    """
    threshold = next((e.get("confidence", 0.0) for e in ranking if e.get("name") == FALLBACK_INTENT), None)
    ordered = sorted(
        (e for e in ranking if e.get("name") != FALLBACK_INTENT),
        key=lambda entry: entry.get("confidence", 0.0),
        reverse=True,
    )
    if threshold is None or len(ordered) < 2 or ordered[0].get("confidence", 0.0) < threshold:
        return None
    pair = [entry["name"] for entry in ordered[:2]]
    return pair if all(name in TOPIC_TITLES for name in pair) else None


def _previous_user_intent(tracker: Tracker) -> Optional[Text]:
    """The intent of the user message before the latest one."""
    user_events = [event for event in tracker.events if event.get("event") == "user"]
    if len(user_events) < 2:
        return None
    return (user_events[-2].get("parse_data") or {}).get("intent", {}).get("name")


class ActionFallbackTopics(Action):
    def name(self) -> Text:
        return "action_fallback_topics"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        if _previous_user_intent(tracker) == FALLBACK_INTENT:
            dispatcher.utter_message(response="utter_fallback_human")
            dispatcher.utter_message(response="utter_contact_staff")
            return []

        ranking = tracker.latest_message.get("intent_ranking") or []
        pair = ambiguous_pair(ranking)
        topics = pair or likeliest_topics(ranking)
        dispatcher.utter_message(
            response="utter_ask_which_of_two" if pair else "utter_ask_rephrase",
            buttons=[{"title": TOPIC_TITLES[name], "payload": f"/{name}"} for name in topics],
        )
        # Forget the misunderstood message so it does not steer the next prediction.
        return [UserUtteranceReverted()]
