"""The action server as it runs in production and in ``make run``: rasa_sdk's own, made to answer Rasa only.

``python -m actions.server [--port 5055]`` serves the same app as ``rasa run actions`` (rasa_sdk's
``create_app`` with this package's actions), with:

- the bind address from ``SANIC_HOST`` (rasa_sdk's own variable), 127.0.0.1 by default: on one machine
  only the Rasa server beside it can reach it; behind a load balancer, set it to the container's address;
- a shared secret: with ``ACTION_SERVER_SECRET`` set, ``/webhook`` and ``/actions`` answer 401 unless
  the request carries it in the ``X-Action-Server-Secret`` header, which Rasa sends from its endpoints
  file (``deploy/endpoints.yml``);
- malformed calls answered 400, and no 500 answer that echoes what a citizen said (rasa_sdk's own
  error handler puts the whole request body, personal data included, into the reply and the log);
- a start-up check of ``bureau.yml``: with ``APP_ENV=production`` it exits with status 1, naming each
  sample value still in the file; otherwise it logs one warning listing them;
- request bodies limited to ``SANIC_REQUEST_MAX_SIZE`` bytes (1 MB by default; a tracker of a long
  conversation is a few hundred kB), and a deflate-encoded body (Rasa with
  ``COMPRESS_ACTION_SERVER_REQUEST``) to ten times that once inflated: a broken one is answered 400,
  a deflate bomb 413.
"""

from __future__ import annotations

import argparse
import hmac
import json
import logging
import os
import zlib
from typing import Any, Optional, Text

from rasa_sdk.endpoint import create_app
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException
from rasa_sdk.utils import number_of_sanic_workers
from sanic import Sanic, response
from sanic.exceptions import PayloadTooLarge, SanicException
from sanic.request import Request

from actions.bureau import startup_check_or_exit
from bot.privacy import install_log_masking

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Action-Server-Secret"
SECRET_ENV = "ACTION_SERVER_SECRET"
DEFAULT_PORT = 5055
DEFAULT_MAX_REQUEST_BYTES = 1_000_000
INFLATED_SIZE_FACTOR = 10  # a deflate body may inflate to this many times the request size limit
PROTECTED_PATHS = ("/webhook", "/actions")


def malformed_reason(call: Any) -> Optional[Text]:
    """Why a webhook body is not an action call Rasa would send, or None if it is one."""
    if not isinstance(call, dict):
        return "the body is not a JSON object"
    if not isinstance(call.get("next_action"), str) or not call["next_action"]:
        return "next_action is missing"
    tracker = call.get("tracker")
    if not isinstance(tracker, dict):
        return "tracker is missing"
    if not isinstance(tracker.get("sender_id"), str):
        return "tracker.sender_id is missing"
    for key, kind in (("slots", dict), ("latest_message", dict), ("events", list)):
        if key in tracker and tracker[key] is not None and not isinstance(tracker[key], kind):
            return f"tracker.{key} has the wrong type"
    if "domain" in call and call["domain"] is not None and not isinstance(call["domain"], dict):
        return "domain has the wrong type"
    return None


def inflate(body: bytes, limit: int) -> bytes:
    """A deflate-encoded (zlib) body inflated, without ever holding more than ``limit`` bytes of it.

    Raises ``ValueError`` when it is not complete deflate data, ``PayloadTooLarge`` beyond ``limit``.
    """
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as error:
        raise ValueError(f"not deflate data ({error})") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"the inflated body is larger than {limit} bytes")
    if not inflater.eof:
        raise ValueError("truncated deflate data")
    return data


def create_action_server(secret: Optional[Text] = None) -> Sanic:
    """rasa_sdk's app for ``actions``, guarded as the module's docstring says."""
    app = create_app("actions", cors_origins=None)
    app.config.REQUEST_MAX_SIZE = int(os.environ.get("SANIC_REQUEST_MAX_SIZE", DEFAULT_MAX_REQUEST_BYTES))
    # Rasa keeps its connections to the action server open; Sanic's default closes one idle for 5 s,
    # and a Rasa server busy for longer then writes its next call to a closing socket (the call fails).
    app.config.KEEP_ALIVE_TIMEOUT = int(os.environ.get("SANIC_KEEP_ALIVE_TIMEOUT", 75))
    max_inflated = app.config.REQUEST_MAX_SIZE * INFLATED_SIZE_FACTOR

    @app.on_request
    async def answer_rasa_only(request: Request):
        if not request.path.startswith(PROTECTED_PATHS):
            return None
        # Sanic decodes header bytes with surrogateescape: encoding back gives the bytes received.
        if secret and not hmac.compare_digest(
            request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape"), secret.encode()
        ):
            return response.json({"error": "unauthorized"}, status=401)
        if request.path == "/webhook" and request.method == "POST":
            if request.stream is not None and request.stream.request_body:
                # The body was not read: Sanic is answering an error (it runs request middleware again
                # then), here a body over REQUEST_MAX_SIZE. Its answer, 413, stands.
                return None
            try:
                if request.headers.get("Content-Encoding") == "deflate":
                    # Checked here with a bound; rasa_sdk inflates it again, whole, to run it.
                    call = json.loads(inflate(request.body, max_inflated))
                else:
                    call = request.json
            except PayloadTooLarge as error:
                return response.json({"error": str(error)}, status=413)
            except Exception:  # Sanic raises its own BadRequest for invalid JSON
                call = None
            reason = malformed_reason(call)
            if reason:
                return response.json({"error": f"invalid action call: {reason}"}, status=400)
        return None

    # Replaces rasa_sdk's handler, which echoes the request body (personal data) in reply and log.
    @app.exception(Exception)
    async def answer_without_echo(request: Request, exception: Exception):
        if isinstance(exception, SanicException):
            status = getattr(exception, "status_code", 500) or 500
            return response.json({"error": str(exception)}, status=status)
        if isinstance(exception, (ActionExecutionRejection, ActionNotFoundException)):
            return response.json({"error": str(exception)}, status=400)
        if isinstance(exception, (ValueError, TypeError, KeyError, AttributeError, UnicodeError)):
            # An action met a tracker it cannot read: a malformed call, not a broken server.
            logger.warning("Action call rejected on %s", request.path, exc_info=exception)
            return response.json({"error": "invalid action call"}, status=400)
        logger.error("Action server error on %s", request.path, exc_info=exception)
        return response.json({"error": "internal error"}, status=500)

    return app


def main(argv: Optional[list] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-p", "--port", type=int, default=int(os.environ.get("ACTION_SERVER_PORT", DEFAULT_PORT)))
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)-7s %(name)s - %(message)s")
    install_log_masking()
    # bureau.yml is checked before anything listens: APP_ENV=production refuses its sample values.
    startup_check_or_exit("action server", warn=logger.warning)
    secret = os.environ.get(SECRET_ENV) or None
    host = os.environ.get("SANIC_HOST", "127.0.0.1")
    if not secret and host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning("%s is not set and the action server listens on %s: anyone who reaches it "
                       "can run actions. Set a shared secret (see deploy/).", SECRET_ENV, host)
    app = create_action_server(secret)
    logger.info("Action server on http://%s:%d (shared secret %s)", host, args.port,
                "required" if secret else "not set")
    # ACTION_SERVER_SANIC_WORKERS, rasa_sdk's own setting, gives more worker processes (default 1).
    app.run(host=host, port=args.port, workers=number_of_sanic_workers(), access_log=False, motd=False)


if __name__ == "__main__":
    main()
