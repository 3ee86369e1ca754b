"""Rasa's socket.io channel, with the session persistence that the web chat page relies on.

Rasa 3.6's ``SocketIOInput`` calls ``sio.enter_room(...)`` without ``await``; in the python-socketio
this project pins (5.18) that is a coroutine, so it never runs (``RuntimeWarning: coroutine 'AsyncServer.enter_room' was never
awaited``). With ``session_persistence: true`` the assistant's answers are sent to the room named after
the session id, which nobody is in: the widget connects, sends its message, and never hears back
(RasaHQ/rasa#13027, open; 3.6.21 is the last 3.6 release).

This subclass replaces the ``session_request`` handler with one that awaits ``enter_room``, and checks
the ``user_uttered`` messages it passes on to Rasa's own handler: a socket may only speak in a session
it has asked for (the session id is the conversation's sender id, so a socket must not pick another
citizen's). Session ids are the 32 hex digits of a random UUID, as Rasa makes them; anything else asked
for gets a new one. Everything else — the URL ``/socket.io``, the event names, the channel name
``socketio``, the output channel — is Rasa's.

In ``credentials.yml``, in place of ``socketio:``::

    bot.web.socketio_channel.SocketIOInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from typing import Any, Awaitable, Callable, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from sanic import Blueprint

from bot.guard import MessageGuard
from bot.privacy import install_log_masking

logger = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[0-9a-f]{32}$")


def allowed_origins() -> Optional[list]:
    """``CORS_ORIGINS`` (comma-separated), the origins whose pages may open a socket; unset: any."""
    origins = [o.strip() for o in os.environ.get("CORS_ORIGINS", "").split(",") if o.strip()]
    return None if not origins or origins == ["*"] else origins


def valid_session_id(value: Any) -> Optional[str]:
    """The session id asked for, if it has the form Rasa gives them (uuid4 hex), else None."""
    return value if isinstance(value, str) and SESSION_ID.fullmatch(value) else None


class SocketIOInput(RasaSocketIOInput):
    """``socketio`` with working session persistence (see the module's docstring)."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        install_log_masking()
        blueprint = super().blueprint(MessageGuard.from_environment().wrap(on_new_message))
        sio = self.sio
        namespace = self.namespace or "/"
        rasa_connect = sio.handlers[namespace]["connect"]
        origins = allowed_origins()

        # Rasa leaves socket.io open to pages of every origin (its CORS headers come from the
        # server's --cors, which browsers enforce on long-polling but not on websockets).
        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: Text, environ: dict, auth: Optional[dict] = None) -> bool:
            origin = environ.get("HTTP_ORIGIN")
            if origins and origin and origin not in origins:
                logger.warning("socket.io connection from a page of %s refused (CORS_ORIGINS)", origin)
                return False
            return await rasa_connect(sid, environ, auth)

        rasa_handle_message = sio.handlers[namespace][self.user_message_evt]

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Any) -> None:
            asked = data.get("session_id") if isinstance(data, dict) else None
            session_id = valid_session_id(asked) or uuid.uuid4().hex
            if self.session_persistence:
                for room in sio.rooms(sid, namespace=namespace):
                    if room != sid and room != session_id:  # one session per socket
                        await sio.leave_room(sid, room, namespace=namespace)
                await sio.enter_room(sid, session_id, namespace=namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)
            logger.debug("socket %s joined session %s%s", sid, session_id,
                         "" if asked in (None, session_id) else " (the id asked for was not valid)")

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            if not isinstance(data, dict):
                logger.warning("socket %s sent a %s that is not an object; ignored", sid, self.user_message_evt)
                return
            if self.session_persistence:
                session_id = data.get("session_id")
                if not valid_session_id(session_id) or session_id not in sio.rooms(sid, namespace=namespace):
                    logger.warning("socket %s sent a message for a session it did not ask for; ignored", sid)
                    return
            await rasa_handle_message(sid, data)

        return blueprint
