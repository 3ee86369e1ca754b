"""A fix for the Rasa server's hottest spot with custom actions.

Rasa 3.6 checks every answer of the action server against a JSON schema with ``jsonschema.validate``,
which first validates the *schema itself* against its meta-schema, on every call. Profiled under load
(py-spy, docs/benchmarks.md), that meta-schema check took 60 % of a Rasa replica's CPU: each form
step calls the action server two or three times. Here the schema is checked once and its validator
reused; the answers are validated exactly as before, with the same error message.
"""

from __future__ import annotations

from typing import Any, Dict, Text

from jsonschema import validators
from jsonschema.exceptions import best_match
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

_installed = False


def install() -> None:
    """Replaces ``RemoteAction._validate_action_result`` in this process (idempotent)."""
    global _installed
    if _installed:
        return
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)  # once, at start-up
    validator = validator_class(schema)

    def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is not None:
            error.message += (
                ". Failed to validate Action server response from API, make sure your response "
                "from the Action endpoint is valid. For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            )
            raise error
        return True

    RemoteAction._validate_action_result = validate_action_result
    _installed = True
