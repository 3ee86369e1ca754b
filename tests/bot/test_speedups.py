"""Action server answers are validated as Rasa does, without re-checking the schema each time."""

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot import speedups


def test_answers_are_still_validated():
    speedups.install()
    speedups.install()
    action = RemoteAction("action_triage", EndpointConfig("http://localhost:5055/webhook"))
    assert action._validate_action_result({"events": [{"event": "slot", "name": "x", "value": 1}], "responses": []})
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": [{"event": "no_such_event"}], "responses": "not a list"})
