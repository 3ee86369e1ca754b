"""Personal data on its way to storage and logs.

- ``mask_personal_numbers`` hides mobile and landline numbers and resident ID numbers inside free
  text ("我电话13812345678" -> "我电话138****5678"); it is what the tracker store keeps of what citizens
  and the assistant said, and what log lines show.
- ``SlotCipher`` encrypts the values of the slots that hold personal data (name, phone, summary) in
  the tracker store. They cannot simply be masked there: with several Rasa replicas, the next message
  of a booking may be handled by another replica, which reads the slots back from the store.
- ``install_log_masking`` masks every log record of the process, whichever library writes it.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import unicodedata
from typing import Any, Optional

from cryptography.fernet import Fernet, InvalidToken

ENCRYPTION_KEY_ENV = "TRACKER_ENCRYPTION_KEY"
# The slots of the contract that hold what a citizen told us about themselves.
PERSONAL_SLOTS = frozenset({"citizen_name", "citizen_phone", "matter_summary"})

_D = "[0-9０-９]"  # people type full-width digits too
_SEP = r"[\s\-－]?"
# A mainland mobile number, with an optional +86 and the separators people use (138 1234 5678).
_MOBILE = rf"(?:[+＋]?[8８][6６]{_SEP}|[0０]{{2}}[8８][6６]{_SEP})?[1１][3-9３-９]{_D}(?:{_SEP}{_D}){{8}}"
# A resident ID number: 17 digits and a digit or X.
_ID_NUMBER = rf"{_D}{{17}}[0-9０-９XxＸｘ]"
# A landline with its area code (0571-8888 8888, 010 12345678).
_LANDLINE = rf"[0０]{_D}{{2,3}}{_SEP}{_D}{{3,4}}{_SEP}{_D}{{4}}"
PERSONAL_NUMBER = re.compile(rf"(?<![0-9０-９])(?:{_ID_NUMBER}|{_MOBILE}|{_LANDLINE})(?![0-9０-９])")


def _mask_match(match: "re.Match[str]") -> str:
    digits = "".join(c for c in unicodedata.normalize("NFKC", match.group(0)) if c.isalnum())
    if len(digits) == 18:  # an ID number: only its last four stay
        return "*" * 14 + digits[-4:]
    if len(digits) > 11 and digits[-11] == "1":  # a mobile number after +86 / 0086
        digits = digits[-11:]
    return digits[:3] + "****" + digits[-4:]


def mask_personal_numbers(text: Any) -> Any:
    """``text`` with phone and ID numbers masked; anything that is not a string is returned as is."""
    if not isinstance(text, str) or not text:
        return text
    return PERSONAL_NUMBER.sub(_mask_match, text)


class SlotCipher:
    """Encrypts personal slot values for the tracker store (Fernet: AES-128-CBC + HMAC-SHA256).

    The key is derived from a secret of any length. Every replica of a deployment must share it
    (``TRACKER_ENCRYPTION_KEY``); a store in one process's memory may use a random one.
    """

    PREFIX = "enc:v1:"

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("The tracker encryption secret is empty")
        key = base64.urlsafe_b64encode(hashlib.sha256(secret.encode("utf-8")).digest())
        self._fernet = Fernet(key)

    @classmethod
    def from_environment(cls, required: bool) -> "SlotCipher":
        secret = os.environ.get(ENCRYPTION_KEY_ENV, "")
        if not secret:
            if required:
                raise RuntimeError(
                    f"{ENCRYPTION_KEY_ENV} is not set. A tracker store shared by several processes "
                    "keeps citizens' names and phone numbers encrypted with it; every Rasa replica "
                    "needs the same value (for example: openssl rand -hex 32)."
                )
            secret = base64.b64encode(os.urandom(32)).decode()
        return cls(secret)

    def encrypt(self, value: Any) -> Any:
        if value is None or (isinstance(value, str) and value.startswith(self.PREFIX)):
            return value
        token = self._fernet.encrypt(str(value).encode("utf-8")).decode("ascii")
        return self.PREFIX + token

    def decrypt(self, value: Any) -> Any:
        """The clear value; a value this key cannot read is dropped (None), never passed on."""
        if not (isinstance(value, str) and value.startswith(self.PREFIX)):
            return value
        try:
            return self._fernet.decrypt(value[len(self.PREFIX):].encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError):
            return None


_installed_factory: Optional[Any] = None


def install_log_masking() -> None:
    """Masks phone and ID numbers in every log record created from now on in this process."""
    global _installed_factory
    current = logging.getLogRecordFactory()
    if current is _installed_factory:
        return

    def masking_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is logging's to report, not ours
            return record
        masked = mask_personal_numbers(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return record

    logging.setLogRecordFactory(masking_factory)
    _installed_factory = masking_factory
