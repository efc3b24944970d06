"""Authentication of CDS clients at the HTTP edge: the bearer JWT on every CDS Hooks call.

CDS Hooks 2.0 "Trusting CDS Clients": the client sends ``Authorization: Bearer <JWT>`` whose ``aud`` is
the exact URL of the endpoint called. ``api.authentication`` turns any failure into a bare 401; the
reason goes to the log at INFO, never to the caller, and the token is neither logged nor stored.

A token in the query string (``?access_token=…``) is refused in every mode: CDS Hooks sends it in the
Authorization header, and a URL ends up in proxies' logs and browser histories. Before the refusal, a
query token that verifies has its ``jti`` recorded, so a copy read from such a log cannot be replayed.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from urllib.parse import parse_qsl

import httpx
from fastapi import Request

from stratcare.auth.config import AuthSettings
from stratcare.auth.errors import Unauthorized
from stratcare.auth.fhir_servers import check_fhir_server
from stratcare.auth.keys import JwksCache
from stratcare.auth.replay import ReplayGuard, TokenUse
from stratcare.auth.verifier import TokenVerifier, VerifiedClient

logger = logging.getLogger(__name__)


def bearer_token(request: Request) -> str:
    """The token of the one ``Authorization: Bearer`` header."""
    values = request.headers.getlist("authorization")
    if len(values) != 1:
        raise Unauthorized("no Authorization header" if not values else "several Authorization headers")
    scheme, _, token = values[0].strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise Unauthorized("Authorization is not a Bearer token")
    return token


QUERY_TOKEN_PARAMETERS = frozenset({"access_token", "token", "id_token", "jwt", "bearer", "authorization"})
COMPACT_JWS = re.compile(r"eyJ[\w-]*\.[\w-]*\.[\w-]*")
MAX_QUERY_TOKENS_SPENT = 3


def query_tokens(request: Request) -> list[str]:
    """Values of the query string that are, or are named like, bearer tokens."""
    pairs = parse_qsl(request.url.query, keep_blank_values=True)
    return [
        value
        for name, value in pairs
        if name.lower() in QUERY_TOKEN_PARAMETERS or COMPACT_JWS.search(value) is not None
    ]


def endpoint_url(request: Request, public_base_url: str | None) -> str:
    """The URL the client called, as it must appear in ``aud``: public base URL + path, never the query."""
    if public_base_url is None:
        return str(request.url.replace(query="", fragment=""))
    path = request.url.path
    root_path = request.scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    return public_base_url.rstrip("/") + path


class ClientAuthenticator:
    """Authenticates CDS clients for the app's lifetime; create it once, in the lifespan."""

    def __init__(
        self,
        settings: AuthSettings,
        http: httpx.AsyncClient,
        replay: ReplayGuard,
        clock: Callable[[], datetime],
        *,
        public_base_url: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._public_base_url = public_base_url
        keys = JwksCache(
            http,
            ttl_seconds=settings.jwks_cache_seconds,
            min_refetch_seconds=settings.jwks_min_refetch_seconds,
            timeout_seconds=settings.jwks_timeout_seconds,
            monotonic=monotonic,
        )
        self._verifier = TokenVerifier(settings, keys, replay, clock)

    @property
    def enabled(self) -> bool:
        return self.settings.mode == "on"

    async def authenticate(self, request: Request, *, defer_spending: bool = False) -> VerifiedClient | None:
        """The verified client; None when authentication is off. Raises ``Unauthorized``. With
        ``defer_spending``, the token's ``jti`` is the caller's to record (``VerifiedClient.unspent``)."""
        in_query = query_tokens(request)
        if in_query:
            await self._spend(in_query, request)
            raise Unauthorized("token in the query string")
        if not self.enabled:
            return None
        token = bearer_token(request)
        audience = endpoint_url(request, self._public_base_url)
        return await self._verifier.verify(token, audience, spend=not defer_spending)

    async def spend(self, use: TokenUse) -> bool:
        """Record a deferred token use; False when the token was used before."""
        return await self._verifier.spend(use)

    async def _spend(self, tokens: list[str], request: Request) -> None:
        """Record the ``jti`` of each query token that verifies (a forged one uses up nothing)."""
        if not self.enabled:
            return
        audience = endpoint_url(request, self._public_base_url)
        for token in tokens[:MAX_QUERY_TOKENS_SPENT]:
            try:
                await self._verifier.verify(token, audience)
            except Unauthorized:
                continue

    def check_fhir_server(self, client: VerifiedClient | None, fhir_server: str) -> None:
        """Raise ``FhirServerNotAllowed`` unless this client may have the service call ``fhir_server``."""
        check_fhir_server(
            client.issuer_config if client is not None else None,
            fhir_server,
            unauthenticated_allowlist=self.settings.fhir_server_allowlist,
        )


def warn_auth_off(log: logging.Logger) -> None:
    log.warning(
        "CDS client authentication is OFF (STRATCARE_AUTH=off): any caller can invoke the services "
        "and name a fhirServer. Use only for local demos."
    )


def warn_audience_from_host(log: logging.Logger) -> None:
    log.warning(
        "STRATCARE_PUBLIC_BASE_URL is not set: token audiences are checked against each request's Host "
        "header; set it to the service's public URL"
    )


def warn_open_fhir_servers(settings: AuthSettings, log: logging.Logger) -> None:
    """Warn about every place where any fhirServer is accepted."""
    open_issuers: Iterable[str] = [
        name for name, issuer in settings.issuers.items() if not issuer.fhir_servers
    ]
    for issuer in open_issuers:
        log.warning("issuer %s has no fhir_servers allowlist: any fhirServer is accepted", issuer)
    if settings.mode == "off" and not settings.fhir_server_allowlist:
        log.warning("STRATCARE_FHIR_SERVER_ALLOWLIST is empty: any fhirServer is accepted")
