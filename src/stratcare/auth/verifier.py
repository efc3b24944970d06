"""Verifies a CDS client's bearer JWT: header, trusted issuer, key, signature, claims, then one-time use.

The order matters: nothing from the token is trusted before its signature verifies, except what is
needed to find the key (``alg``, ``kid``, ``jku`` and ``iss``), and each of those is checked against
configuration before use. The ``jti`` is recorded only for tokens that passed every other check, so
forged tokens cannot use up a client's token ids.
"""

from __future__ import annotations

import functools
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
from stratcare.auth.replay import ReplayGuard, TokenUse

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
    unspent: TokenUse | None = None
    """The token's use, when the caller records it with its own writes (``verify(spend=False)``)."""


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

    async def verify(self, token: str, audience: str, *, spend: bool = True) -> VerifiedClient:
        """The verified client, or ``Unauthorized``; ``audience`` is the exact URL of the endpoint called.
        With ``spend=False`` the ``jti`` is not recorded here: the client's ``unspent`` use must be."""
        unverified = read_unverified(token)
        config = self._settings.issuers.get(unverified.issuer)
        if config is None:
            raise Unauthorized("issuer is not trusted")
        claims = await self._verified_claims(token, unverified, config)
        now = self._clock()
        checked = check_claims(claims, audience=audience, now=now, limits=self._limits)
        if checked.issuer != unverified.issuer:
            raise Unauthorized("issuer changed")
        remember_until = checked.expires_at + timedelta(seconds=self._settings.leeway_seconds)
        use = TokenUse(checked.issuer, checked.jti, remember_until, now)
        if spend and not await self.spend(use):
            raise Unauthorized("jti already used")
        return VerifiedClient(
            issuer=checked.issuer,
            jti=checked.jti,
            issuer_config=config,
            subject=checked.subject,
            tenant=checked.tenant,
            unspent=None if spend else use,
        )

    async def spend(self, use: TokenUse) -> bool:
        """Record the token's use; False when it was used before."""
        return await self._replay.first_use(use.issuer, use.jti, use.expires_at, use.now)

    async def _verified_claims(
        self, token: str, unverified: _Unverified, config: IssuerConfig
    ) -> dict[str, object]:
        """The claims of a token whose signature verifies with a key from the first source that has one."""
        reason = "no key with that kid"
        key_type = KEY_TYPE_BY_ALGORITHM[unverified.algorithm]
        for source in key_sources(config, unverified.jku):
            key = await self._keys.key(source, unverified.kid, key_type)
            if key is None:
                continue
            try:
                return verify_signature(token, key, unverified.algorithm)
            except Unauthorized as refusal:
                reason = refusal.reason
        raise Unauthorized(reason)


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


def key_sources(config: IssuerConfig, jku: str | None) -> list[KeySource]:
    """Where to look for the token's key, in order: the issuer's configured keys (``jwks_url`` or
    ``jwks_file``) first, then the token's ``jku`` when it is on the issuer's allowlist (compared as an
    exact string). Clients such as the public CDS Hooks sandbox send a ``jku`` on every token; an offline
    deployment that holds the issuer's keys in a file must not depend on fetching it. A ``jku`` off the
    allowlist is never fetched; it is refused only when the issuer has no configured keys to try."""
    configured = [KeySource(url=config.jwks_url)] if config.jwks_url is not None else []
    configured += [KeySource(file=config.jwks_file)] if config.jwks_file is not None else []
    if jku is None or jku == config.jwks_url:
        if not configured:
            raise Unauthorized("issuer's keys are only known through jku, and the token has none")
        return configured
    if jku in config.jku_allowlist:
        return [*configured, KeySource(url=jku)]
    if not configured:
        raise Unauthorized("jku not on the issuer's allowlist")
    return configured


@functools.cache
def _registry(algorithm: str) -> JWSRegistry:
    """The registry allowing only ``algorithm``, made once per algorithm (the keys are cached by JwksCache;
    what a call pays for is the signature check itself)."""
    return JWSRegistry(algorithms=[algorithm], strict_check_header=False)


def verify_signature(token: str, key: Key, algorithm: str) -> dict[str, object]:
    if key.alg is not None and key.alg != algorithm:
        raise Unauthorized("key is not for this alg")
    registry = _registry(algorithm)
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
