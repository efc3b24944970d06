"""The JWT claims CDS Hooks 2.0 requires of a CDS client, checked against the endpoint and the clock.

CDS Hooks 2.0 "Trusting CDS Clients": ``iss``, ``aud`` (the CDS service endpoint being called), ``exp``
(no more than five minutes in the future), ``iat`` and ``jti`` are required; ``sub`` and ``tenant`` are
optional. ``nbf`` is honoured when present. Pure: the caller passes the time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from stratcare.auth.errors import Unauthorized

REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "jti")
MAX_JTI_LENGTH = 255


@dataclass(frozen=True)
class ClaimLimits:
    leeway_seconds: int
    max_lifetime_seconds: int


@dataclass(frozen=True)
class TokenClaims:
    issuer: str
    jti: str
    expires_at: datetime
    subject: str | None = None
    tenant: str | None = None


def check_claims(
    claims: Mapping[str, object], *, audience: str, now: datetime, limits: ClaimLimits
) -> TokenClaims:
    for name in REQUIRED_CLAIMS:
        if name not in claims:
            raise Unauthorized(f"missing claim {name}")
    issuer = _text(claims, "iss")
    if issuer is None:
        raise Unauthorized("iss is not a string")
    _check_audience(claims["aud"], audience)
    expires = _check_times(claims, now.timestamp(), limits)
    jti = _text(claims, "jti")
    if jti is None or not 0 < len(jti) <= MAX_JTI_LENGTH:
        raise Unauthorized("jti is not a usable string")
    return TokenClaims(
        issuer=issuer,
        jti=jti,
        expires_at=datetime.fromtimestamp(expires, UTC),
        subject=_optional_text(claims, "sub"),
        tenant=_optional_text(claims, "tenant"),
    )


def _check_audience(aud: object, audience: str) -> None:
    if isinstance(aud, str):
        matches = aud == audience
    elif isinstance(aud, list) and all(isinstance(item, str) for item in aud):
        matches = audience in aud
    else:
        raise Unauthorized("aud is neither a string nor a list of strings")
    if not matches:
        raise Unauthorized("aud is not this endpoint")


def _check_times(claims: Mapping[str, object], now: float, limits: ClaimLimits) -> float:
    """The checked ``exp``."""
    leeway = limits.leeway_seconds
    expires, issued = _number(claims, "exp"), _number(claims, "iat")
    if now > expires + leeway:
        raise Unauthorized("token expired")
    if issued > now + leeway:
        raise Unauthorized("iat is in the future")
    if "nbf" in claims and _number(claims, "nbf") > now + leeway:
        raise Unauthorized("token not yet valid (nbf)")
    if expires <= issued:
        raise Unauthorized("exp is not after iat")
    # With iat no later than now + leeway, this also keeps exp within now + max lifetime + leeway.
    if expires - issued > limits.max_lifetime_seconds:
        raise Unauthorized("token lifetime too long")
    return expires


def _number(claims: Mapping[str, object], name: str) -> float:
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Unauthorized(f"{name} is not a number")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise Unauthorized(f"{name} is not a finite number")
    return number


def _text(claims: Mapping[str, object], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) else None


def _optional_text(claims: Mapping[str, object], name: str) -> str | None:
    if name in claims and not isinstance(claims[name], str):
        raise Unauthorized(f"{name} is not a string")
    return _text(claims, name)
