"""Signed CDS client tokens for the tests, and a clock the tests move by hand."""

from __future__ import annotations

import base64
import json
import uuid
import warnings
from datetime import UTC, datetime
from typing import Any

from joserfc.errors import SecurityWarning
from joserfc.jwk import Key
from joserfc.jws import JWSRegistry, serialize_compact
from joserfc.registry import HeaderParameter

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ISSUER = "https://ehr.example.org"
AUDIENCE = "http://stratcare.test/cds-services/start-back-encounter-start"


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid claims for ``AUDIENCE`` at ``NOW``; an override of None drops the claim."""
    now = int(NOW.timestamp())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 240,
        "jti": str(uuid.uuid4()),
    }
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


def sign(key: Key, alg: str, payload: dict[str, Any], **header: Any) -> str:
    """A compact JWS; header entries default to ``typ: JWT`` and the key's ``kid``; None drops one."""
    full = {"alg": alg, "typ": "JWT", "kid": key.kid, **header}
    extra = {name: HeaderParameter(name, "int") for name in header if ":" in name}
    registry = JWSRegistry(header_registry=extra, algorithms=[alg])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)  # EdDSA is deprecated, yet clients still send it
        return serialize_compact(
            {k: v for k, v in full.items() if v is not None},
            json.dumps(payload).encode(),
            key,
            registry=registry,
        )


def unsigned(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    """A token assembled by hand, for algorithms no library should produce (``none``, HMAC with a PEM)."""
    return ".".join([_b64(json.dumps(header).encode()), _b64(json.dumps(payload).encode()), _b64(signature)])


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwks(*keys: Key) -> dict[str, Any]:
    return {"keys": [key.as_dict(private=False) for key in keys]}


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
