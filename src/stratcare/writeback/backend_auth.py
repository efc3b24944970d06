"""SMART Backend Services: stratcare's own access token for the EHR, for writes made after the hook.

The client-credentials grant with a signed JWT assertion (SMART App Launch 2.x "Backend Services";
RFC 7523): the assertion names the client as ``iss`` and ``sub``, the token endpoint as ``aud``, expires
within five minutes and carries a fresh ``jti``. Tokens are cached in memory until shortly before expiry
and never written anywhere.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from pydantic import SecretStr

from stratcare.errors import EhrRejectedError, EhrTechnicalError
from stratcare.fhir.retryable import status_error

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME_SECONDS = 300
REFRESH_MARGIN_SECONDS = 30
SIGNING_ALGORITHMS = ("RS384", "ES384", "RS256", "ES256", "RS512", "ES512")


@dataclass(frozen=True)
class BackendServicesConfig:
    token_url: str
    client_id: str
    private_key_file: Path
    """A private JWK (JSON) or PEM file; its ``kid`` must match the key the EHR registered."""
    key_id: str
    algorithm: str = "RS384"
    scope: str = "system/Observation.write system/RiskAssessment.write"


def load_signing_key(path: Path) -> ECKey | RSAKey:
    raw = path.read_bytes()
    if raw.lstrip().startswith(b"{"):
        data = json.loads(raw)
        return ECKey.import_key(data) if data.get("kty") == "EC" else RSAKey.import_key(data)
    try:
        return RSAKey.import_key(raw)
    except ValueError:
        return ECKey.import_key(raw)


class BackendServicesToken:
    """Fetches and caches an access token with a signed client assertion."""

    def __init__(
        self,
        config: BackendServicesConfig,
        http: httpx.AsyncClient,
        *,
        clock: Callable[[], float] = time.time,
        new_jti: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        if config.algorithm not in SIGNING_ALGORITHMS:
            raise ValueError(f"unsupported signing algorithm {config.algorithm!r}")
        self._config = config
        self._http = http
        self._key = load_signing_key(config.private_key_file)
        self._clock = clock
        self._new_jti = new_jti
        self._cached: tuple[SecretStr, float] | None = None

    def assertion(self) -> str:
        now = int(self._clock())
        claims = {
            "iss": self._config.client_id,
            "sub": self._config.client_id,
            "aud": self._config.token_url,
            "exp": now + ASSERTION_LIFETIME_SECONDS,
            "iat": now,
            "jti": self._new_jti(),
        }
        header = {"alg": self._config.algorithm, "kid": self._config.key_id, "typ": "JWT"}
        return jwt.encode(header, claims, self._key, algorithms=[self._config.algorithm])

    async def token(self) -> SecretStr:
        if self._cached and self._cached[1] > self._clock():
            return self._cached[0]
        form = {
            "grant_type": "client_credentials",
            "scope": self._config.scope,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.assertion(),
        }
        try:
            response = await self._http.post(self._config.token_url, data=form)
        except httpx.HTTPError as exc:
            raise EhrTechnicalError(
                f"no access token: token endpoint unreachable: {type(exc).__name__}"
            ) from exc
        if response.is_error:
            raise status_error(
                f"no access token: token endpoint answered {response.status_code}", response.status_code
            )
        body = response.json()
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise EhrRejectedError("no access token: the token endpoint sent none")
        expires_in = body.get("expires_in", 300)
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 300.0
        secret = SecretStr(token)
        self._cached = (secret, self._clock() + max(lifetime - REFRESH_MARGIN_SECONDS, 0.0))
        return secret
