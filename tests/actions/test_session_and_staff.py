import logging

from actions.session import ActionSessionStart
from actions.staff import ActionFlagForStaff, conversation_reference
from tests.actions.conftest import make_tracker, user_event


def test_session_start_keeps_the_matter_and_forgets_personal_data(run_action):
    slots = {
        "matter_type": "wage_arrears",
        "statutory_channel": "arbitration",
        "citizen_name": "王建国",
        "citizen_phone": "13800001234",
        "booking_code": None,
    }
    _, events = run_action(ActionSessionStart(), make_tracker([], slots))
    assert events[0]["event"] == "session_started"
    carried = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert carried == {"matter_type": "wage_arrears", "statutory_channel": "arbitration"}
    assert (events[-1]["event"], events[-1]["name"]) == ("action", "action_listen")


def test_staff_flag_sets_the_slot_and_logs_no_identifier(run_action, caplog):
    tracker = make_tracker([user_event("crisis", "我不想活了")], sender="oWECHAT-openid-123")
    with caplog.at_level(logging.WARNING):
        _, events = run_action(ActionFlagForStaff(), tracker)
    assert {"event": "slot", "name": "staff_alert", "value": "crisis", "timestamp": None} in events
    assert "oWECHAT-openid-123" not in caplog.text
    assert conversation_reference("oWECHAT-openid-123") in caplog.text
    assert "不想活" not in caplog.text


def test_staff_flag_is_recorded_for_the_staff(run_action):
    from actions.booking_form import get_service

    run_action(ActionFlagForStaff(), make_tracker([user_event("crisis", "活不下去了")], sender="citizen-9"))
    alerts = get_service().alerts.list()
    assert [(a.conversation_id, a.kind) for a in alerts] == [("citizen-9", "crisis")]
