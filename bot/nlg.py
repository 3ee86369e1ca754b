"""Response generation that fills the bureau's facts into the domain's responses.

Responses in ``domain/`` write ``{bureau_phone}``, ``{online_url}``, ``{hotline_legal_services}``
and so on; the values come from ``bureau.yml`` (see ``actions/bureau.py``), so an operator changes a
phone number in one place and every answer follows. Enabled in ``endpoints.yml`` under ``nlg``.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from actions.bureau import get_config


class BureauFactsNLG(TemplatedNaturalLanguageGenerator):
    """Rasa's templated responses, with the bureau's facts as template variables."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, domain: Optional[Domain] = None) -> None:
        super().__init__((domain or Domain.empty()).responses)
        self.facts = get_config().template_values()

    async def generate(
        self,
        utter_action: Text,
        tracker: DialogueStateTracker,
        output_channel: Text,
        **kwargs: Any,
    ) -> Optional[Dict[Text, Any]]:
        return await super().generate(
            utter_action, tracker, output_channel, **{**self.facts, **kwargs}
        )
