"""Rasa's REST channel (name ``rest``, URL ``/webhooks/rest/webhook``), strict about its input and
behind the message guard.

Rasa's own channel answers 500 to a body that is not a JSON object and passes a sender id or message
that is not text on to the assistant. This one answers 400 with the reason, and sends each message
through ``bot.guard.MessageGuard`` (length and rate limits with a polite reply). A blank message, or
one with lone surrogates (``"\\ud800"`` is valid JSON but not text), is refused too: the NLU pipeline
fails on both, which left the citizen without an answer. With ``?stream=true``, a message whose
handling fails ends the stream instead of holding the connection until Sanic's response timeout
(a 503 after a minute).

In ``credentials.yml``, in place of ``rest:``::

    bot.channels.rest.RestInput:
"""

from __future__ import annotations

import logging
from asyncio import Queue
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint
from sanic.exceptions import InvalidUsage
from sanic.request import Request

from bot.guard import MessageGuard, is_text
from bot.privacy import install_log_masking

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 256


def _body(request: Request) -> Dict[Text, Any]:
    body = request.json  # Sanic answers 400 itself when the body is not JSON
    if not isinstance(body, dict):
        raise InvalidUsage("The body must be a JSON object with `sender` and `message`.")
    return body


class RestInput(RasaRestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "RestInput":
        return cls()

    def __init__(self, guard: Optional[MessageGuard] = None) -> None:
        install_log_masking()
        self.guard = guard or MessageGuard.from_environment()

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        sender = _body(req).get("sender")
        if not is_text(sender) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
            raise InvalidUsage(f"`sender` must be a non-empty string of at most {MAX_SENDER_CHARS} characters.")
        return sender

    def _extract_message(self, req: Request) -> Optional[Text]:
        message = _body(req).get("message")
        if not is_text(message) or not message.strip():
            raise InvalidUsage("`message` must be a string with some text.")
        return message

    def _extract_input_channel(self, req: Request) -> Text:
        channel = _body(req).get("input_channel")
        return channel if is_text(channel) and channel else self.name()

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        metadata = _body(request).get("metadata")
        return metadata if isinstance(metadata, dict) else None

    @staticmethod
    async def on_message_wrapper(
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: Text,
        queue: Queue,
        sender_id: Text,
        input_channel: Text,
        metadata: Optional[Dict[Text, Any]],
    ) -> None:
        """Rasa's wrapper for ``?stream=true``, ending the stream also when handling the message fails
        (Rasa's then never ends it, and the client waits for Sanic's response timeout)."""
        try:
            await RasaRestInput.on_message_wrapper(on_new_message, text, queue, sender_id, input_channel, metadata)
        except Exception:
            logger.exception("rest: handling a streamed message failed")
            await queue.put("DONE")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        return super().blueprint(self.guard.wrap(on_new_message))
