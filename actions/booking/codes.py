"""Booking codes: short, unambiguous to read aloud, unguessable.

Six characters drawn with ``secrets`` from an alphabet without 0/O, 1/I/L: 31**6 (about 8.9e8)
codes, and a code alone opens nothing: checking, cancelling or moving a booking also needs the phone
number that made it.
"""

from __future__ import annotations

import secrets
import unicodedata
from typing import Optional

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 6


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize_code(text: str) -> Optional[str]:
    """The code as stored (upper case, no spaces or dashes), or None if it cannot be one."""
    code = unicodedata.normalize("NFKC", text or "").upper()
    code = "".join(ch for ch in code if not ch.isspace() and ch not in "-_")
    if len(code) != LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code
