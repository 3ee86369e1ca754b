"""Response generation that fills the bureau's facts into the domain's responses.

Responses in ``domain.yml`` write ``{bureau_phone}``, ``{online_url}``, ``{hotline_legal_services}``
and so on; the values come from ``bureau.yml`` (see ``actions/bureau.py``), so an operator changes a
phone number in one place and every answer follows. Enabled in ``endpoints.yml`` under ``nlg``.

- A fact still marked as a sample in ``bureau.yml`` is never said: ``template_values()`` gives neutral
  wording in its place. A response variation with ``metadata: {sample_facts: omit}`` leaves out the
  sentences that use such a fact instead (e.g. the bureau's phone in the crisis reply).
- The generator is created when Rasa loads its agent, before it serves anyone: with
  ``APP_ENV=production`` and sample values left, it raises ``SampleValuesError`` and the Rasa server
  exits with status 1 and the message naming them.
- Of a response's variations, the first is said the first time, the second the next time the
  conversation hears that response, and so on (``variation_for``): no repetition, and deterministic.
  A long answer has a short variation marked ``metadata: {said_before: true}``: said every time
  after the first, so that nobody is shown the same seven paragraphs twice (issue 12).
- A ``{placeholder}`` without a value never reaches a citizen: with ``STRICT_TEMPLATES=1`` (the tests)
  it raises; otherwise the sentence that needs it is left out and the error logged.
"""

from __future__ import annotations

import copy
import logging
from typing import Any, Dict, Optional, Text

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.nlg.generator import ResponseVariationFilter
from rasa.shared.core.events import BotUttered
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from actions.bureau import (
    ensure_startable,
    fill_template,
    fill_template_leniently,
    omit_sentences_with,
    strict_templates,
)

logger = logging.getLogger(__name__)

SAMPLE_FACTS_METADATA = "sample_facts"  # a response variation's metadata: {sample_facts: omit}
SAID_BEFORE_METADATA = "said_before"  # a response variation's metadata: {said_before: true}


class BureauFactsNLG(TemplatedNaturalLanguageGenerator):
    """Rasa's templated responses, with the bureau's facts as template variables."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, domain: Optional[Domain] = None) -> None:
        super().__init__((domain or Domain.empty()).responses)
        # Rasa creates the generator as it loads the agent, before serving: the start-up check.
        config = ensure_startable("rasa")  # SampleValuesError (a RasaException) stops `rasa run`
        self.facts = config.template_values()
        self.sample_keys = config.sample_keys()

    async def generate(
        self,
        utter_action: Text,
        tracker: DialogueStateTracker,
        output_channel: Text,
        **kwargs: Any,
    ) -> Optional[Dict[Text, Any]]:
        filled_slots = tracker.current_slot_values()
        variation = self.variation_for(utter_action, output_channel, filled_slots, times_said(tracker, utter_action))
        if variation is None:
            return None
        return self._fill_response(copy.deepcopy(variation), filled_slots, **{**self.facts, **kwargs})

    def variation_for(self, utter_action: Text, output_channel: Text, filled_slots: Dict[Text, Any],
                      turn: int) -> Optional[Dict[Text, Any]]:
        """The variation to say, in turn rather than at random (Rasa's way): the ``turn``-th of the
        variations that fit, ``turn`` being how often the conversation has already heard the response.
        A response with several variations (the crisis reply) never repeats while it has others, and
        tests know what is said."""
        if utter_action not in self.responses:
            return None
        suitable = ResponseVariationFilter(self.responses).responses_for_utter_action(
            utter_action, output_channel, filled_slots
        )
        if not suitable:
            return None
        again = [v for v in suitable if _said_before(v)]
        first = [v for v in suitable if not _said_before(v)]
        if again and first:
            return first[0] if turn == 0 else again[(turn - 1) % len(again)]
        return suitable[turn % len(suitable)]

    def render(self, variation: Dict[Text, Any], filled_slots: Optional[Dict[Text, Any]] = None,
               **values: Any) -> Dict[Text, Any]:
        """One response variation filled as ``generate`` fills the one it picks (the tests render
        every variation of every response)."""
        return self._fill_response(copy.deepcopy(variation), filled_slots or {}, **{**self.facts, **values})

    def _fill_response(
        self,
        response: Dict[Text, Any],
        filled_slots: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> Dict[Text, Any]:
        """The text filled strictly (see the module's docstring); the other keys as Rasa does."""
        metadata = response.get("metadata")
        omit_samples = isinstance(metadata, dict) and metadata.pop(SAMPLE_FACTS_METADATA, None) == "omit"
        if isinstance(metadata, dict):
            metadata.pop(SAID_BEFORE_METADATA, None)
        if isinstance(metadata, dict) and not metadata:
            response.pop("metadata")
        text = response.pop("text", None)
        response = super()._fill_response(response, filled_slots, **kwargs)
        if text is not None:
            if omit_samples:
                text = omit_sentences_with(text, self.sample_keys)
            values = self._response_variables(filled_slots, kwargs)
            if strict_templates():
                response["text"] = fill_template(text, values)
            else:
                response["text"], missing = fill_template_leniently(text, values)
                if missing:
                    logger.error("Response text without a value for %s (those sentences left out): %r",
                                 ", ".join(sorted(missing)), text)
        return response


def _said_before(variation: Dict[Text, Any]) -> bool:
    metadata = variation.get("metadata")
    return isinstance(metadata, dict) and bool(metadata.get(SAID_BEFORE_METADATA))


def times_said(tracker: DialogueStateTracker, utter_action: Text) -> int:
    """How many times this conversation has heard ``utter_action`` (its bot messages say which
    response they were)."""
    return sum(
        1 for event in tracker.events
        if isinstance(event, BotUttered) and (event.metadata or {}).get("utter_action") == utter_action
    )
