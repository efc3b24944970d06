"""Verifies a CDS client's bearer JWT: header, trusted issuer, key, signature, claims, then one-time use.

The order matters: nothing from the token is trusted before its signature verifies, except what is
needed to find the key (``alg``, ``kid``, ``jku`` and ``iss``), and each of those is checked against
configuration before use. The ``jti`` is recorded only for tokens that passed every other check, so
forged tokens cannot use up a client's token ids.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from joserfc import jwt
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import Key
from joserfc.jws import JWSRegistry, extract_compact

from stratcare.auth.claims import ClaimLimits, check_claims
from stratcare.auth.config import AuthSettings, IssuerConfig
from stratcare.auth.errors import Unauthorized
from stratcare.auth.keys import JwksCache, KeySource
from stratcare.auth.replay import ReplayGuard

MAX_TOKEN_LENGTH = 16 * 1024
KEY_TYPE_BY_ALGORITHM = {
    **dict.fromkeys(("ES256", "ES384", "ES512"), "EC"),
    **dict.fromkeys(("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"), "RSA"),
    **dict.fromkeys(("EdDSA", "Ed25519"), "OKP"),
}
"""Asymmetric algorithms only: ``none`` and every HMAC (HS*) algorithm are refused."""


@dataclass(frozen=True)
class VerifiedClient:
    """The CDS client behind a verified token."""

    issuer: str
    jti: str
    issuer_config: IssuerConfig
    subject: str | None = None
    tenant: str | None = None


@dataclass(frozen=True)
class _Unverified:
    algorithm: str
    kid: str
    jku: str | None
    issuer: str


class TokenVerifier:
    def __init__(
        self,
        settings: AuthSettings,
        keys: JwksCache,
        replay: ReplayGuard,
        clock: Callable[[], datetime],
    ) -> None:
        self._settings = settings
        self._keys = keys
        self._replay = replay
        self._clock = clock
        self._limits = ClaimLimits(settings.leeway_seconds, settings.max_token_lifetime_seconds)

    async def verify(self, token: str, audience: str) -> VerifiedClient:
        """The verified client, or ``Unauthorized``; ``audience`` is the exact URL of the endpoint called."""
        unverified = read_unverified(token)
        config = self._settings.issuers.get(unverified.issuer)
        if config is None:
            raise Unauthorized("issuer is not trusted")
        source = key_source(config, unverified.jku)
        key = await self._keys.key(source, unverified.kid, KEY_TYPE_BY_ALGORITHM[unverified.algorithm])
        if key is None:
            raise Unauthorized("no key with that kid")
        claims = verify_signature(token, key, unverified.algorithm)
        now = self._clock()
        checked = check_claims(claims, audience=audience, now=now, limits=self._limits)
        if checked.issuer != unverified.issuer:
            raise Unauthorized("issuer changed")
        remember_until = checked.expires_at + timedelta(seconds=self._settings.leeway_seconds)
        if not await self._replay.first_use(checked.issuer, checked.jti, remember_until, now):
            raise Unauthorized("jti already used")
        return VerifiedClient(
            issuer=checked.issuer,
            jti=checked.jti,
            issuer_config=config,
            subject=checked.subject,
            tenant=checked.tenant,
        )


def read_unverified(token: str) -> _Unverified:
    """What is needed to find the key, checked for shape only; the signature is verified later."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise Unauthorized("token too long")
    try:
        compact = extract_compact(token.encode("ascii"))
        header = compact.headers()
        claims = json.loads(compact.payload)
    except (JoseError, ValueError, TypeError, UnicodeError) as exc:
        raise Unauthorized("token is not a compact JWS") from exc
    algorithm, kid, jku = check_header(header)
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    if not isinstance(issuer, str):
        raise Unauthorized("missing claim iss")
    return _Unverified(algorithm=algorithm, kid=kid, jku=jku, issuer=issuer)


def check_header(header: Mapping[str, object]) -> tuple[str, str, str | None]:
    """``(alg, kid, jku)`` of an acceptable JOSE header."""
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in KEY_TYPE_BY_ALGORITHM:
        raise Unauthorized("alg not accepted")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise Unauthorized("kid missing")
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.upper() != "JWT":
        raise Unauthorized("typ is not JWT")
    jku = header.get("jku")
    if jku is not None and not isinstance(jku, str):
        raise Unauthorized("jku is not a string")
    return algorithm, kid, jku


def key_source(config: IssuerConfig, jku: str | None) -> KeySource:
    """A ``jku`` is followed only when it is on the issuer's allowlist or is the issuer's configured
    ``jwks_url`` (clients such as the public CDS Hooks sandbox send their own key-set URL), compared as an
    exact string."""
    if jku is not None:
        if jku not in config.jku_allowlist and jku != config.jwks_url:
            raise Unauthorized("jku not on the issuer's allowlist")
        return KeySource(url=jku)
    if config.jwks_url is not None:
        return KeySource(url=config.jwks_url)
    if config.jwks_file is not None:
        return KeySource(file=config.jwks_file)
    raise Unauthorized("issuer's keys are only known through jku, and the token has none")


def verify_signature(token: str, key: Key, algorithm: str) -> dict[str, object]:
    if key.alg is not None and key.alg != algorithm:
        raise Unauthorized("key is not for this alg")
    registry = JWSRegistry(algorithms=[algorithm], strict_check_header=False)
    try:
        if algorithm == "EdDSA":
            with warnings.catch_warnings():
                # Deprecated in favour of Ed25519 (RFC 9864), but still what many clients send.
                warnings.simplefilter("ignore", SecurityWarning)
                decoded = jwt.decode(token, key, registry=registry)
        else:
            decoded = jwt.decode(token, key, registry=registry)
    except (JoseError, ValueError, TypeError) as exc:
        raise Unauthorized("signature does not verify") from exc
    return dict(decoded.claims)
