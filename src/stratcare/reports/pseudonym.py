"""Pseudonyms for patient ids in missed-patient lists: a keyed hash, stable while the key is.

HMAC-SHA-256 (RFC 2104) with a secret key, so a pseudonym cannot be reversed by hashing candidate ids
without the key; 20 hex digits (80 bits) keep lists readable with no practical chance of collision.
"""

from __future__ import annotations

import hashlib
import hmac

PSEUDONYM_HEX_DIGITS = 20


def pseudonym(key: bytes, patient_id: str) -> str:
    digest = hmac.new(key, patient_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"p-{digest[:PSEUDONYM_HEX_DIGITS]}"
