"""Sends one outbox Bundle to its FHIR server and says whether a later attempt may succeed.

Credentials, in order: the access token the hook call lent (``fhirAuthorization``), handed over in memory
for the first attempt only and never stored; else stratcare's own SMART Backend Services token when one is
configured for that server; else none (open test servers).

Failures are *transient* (connection errors, timeouts, the statuses ``fhir.retryable`` names, a lent token
the server refused) or *permanent* (any other 4xx, e.g. an invalid Bundle, or a server that answers with
something other than a transaction-response). The error text names status and server diagnostics, never a token.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

import httpx
from pydantic import SecretStr

from stratcare.errors import FhirServerError
from stratcare.fhir.client import FHIR_JSON, outcome_diagnostics
from stratcare.fhir.retryable import is_retryable_status
from stratcare.json_types import JsonObject
from stratcare.writeback.outbox import ClaimedWrite
from stratcare.writeback.targets import WritebackTargets

HANDOFF_MAX_SECONDS = 300.0
"""A lent token is kept for the immediate attempt only, however long the EHR says it lives."""
REDACTED = "[redacted]"


class TokenSource(Protocol):
    async def token(self) -> SecretStr: ...


@dataclass(frozen=True)
class Delivered:
    """The server applied the transaction."""


@dataclass(frozen=True)
class DeliveryFailed:
    error: str
    permanent: bool
    retry_after_seconds: float | None = None
    """What the server asked for with ``Retry-After``, if anything."""


DeliveryOutcome = Delivered | DeliveryFailed


class WriteDeliverer(Protocol):
    async def deliver(self, write: ClaimedWrite) -> DeliveryOutcome: ...


def base_url_key(base_url: str) -> str:
    return base_url.rstrip("/")


@dataclass(frozen=True)
class _Lent:
    token: SecretStr
    expires_at: float


class TokenHandoff:
    """Tokens lent by hook calls, by server and outbox key, in memory only; each is used at most once."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lent: dict[tuple[str, str], _Lent] = {}

    def hand_over(self, key: str, base_url: str, token: SecretStr, expires_in_seconds: float) -> None:
        self.purge()
        lifetime = min(max(expires_in_seconds, 0.0), HANDOFF_MAX_SECONDS)
        self._lent[base_url_key(base_url), key] = _Lent(token, self._clock() + lifetime)

    def take(self, key: str, base_url: str) -> SecretStr | None:
        """The token lent for ``key`` and ``base_url``, if it is still valid; forgotten after."""
        lent = self._lent.pop((base_url_key(base_url), key), None)
        if lent is None or lent.expires_at <= self._clock():
            return None
        return lent.token

    def purge(self) -> None:
        now = self._clock()
        for key in [key for key, lent in self._lent.items() if lent.expires_at <= now]:
            del self._lent[key]

    def __len__(self) -> int:
        return len(self._lent)


class Deliverer:
    """Delivers outbox rows over one shared ``httpx.AsyncClient`` (its timeouts bound each attempt)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        ehr_base_url: str | None,
        targets: WritebackTargets | None = None,
        handoff: TokenHandoff | None = None,
        backend_tokens: Mapping[str, TokenSource] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._http = http
        self._ehr_base_url = ehr_base_url
        self._targets = targets
        # Not `handoff or ...`: an empty TokenHandoff is falsy (it has a length) yet must be shared.
        self._handoff = handoff if handoff is not None else TokenHandoff()
        self._backend = {base_url_key(url): source for url, source in (backend_tokens or {}).items()}
        self._clock = clock

    async def deliver(self, write: ClaimedWrite) -> DeliveryOutcome:
        base_url = write.fhir_server or self._ehr_base_url
        if not base_url:
            return DeliveryFailed("no FHIR server: the hook sent none and no EHR base URL is set", True)
        if self._targets is not None and not self._targets.configured(base_url):
            return DeliveryFailed(f"{base_url_key(base_url)} is not configured for write-back", True)
        lent = self._handoff.take(write.key, base_url)
        token = lent
        if token is None:
            try:
                token = await self._backend_token(base_url)
            except FhirServerError as exc:
                return DeliveryFailed(f"no access token: {exc.message}", permanent=not exc.technical)
        outcome = await self._post(base_url_key(base_url), write.bundle, token, lent_token=lent is not None)
        if isinstance(outcome, DeliveryFailed) and token is not None:
            secret = token.get_secret_value()
            return DeliveryFailed(
                outcome.error.replace(secret, REDACTED), outcome.permanent, outcome.retry_after_seconds
            )
        return outcome

    async def _backend_token(self, base_url: str) -> SecretStr | None:
        source = self._backend.get(base_url_key(base_url))
        return await source.token() if source else None

    async def _post(
        self, url: str, bundle: JsonObject, token: SecretStr | None, *, lent_token: bool
    ) -> DeliveryOutcome:
        headers = {"Accept": FHIR_JSON, "Content-Type": FHIR_JSON}
        if token is not None:
            headers["Authorization"] = f"Bearer {token.get_secret_value()}"
        try:
            response = await self._http.post(url, json=bundle, headers=headers)
        except httpx.HTTPError as exc:
            return DeliveryFailed(f"POST {url} failed: {type(exc).__name__}", permanent=False)
        if response.is_success:
            return _applied(response, url)
        error = f"POST {url} answered {response.status_code}{outcome_diagnostics(response)}"
        status = response.status_code
        if is_retryable_status(status):
            return DeliveryFailed(error, permanent=False, retry_after_seconds=self._retry_after(response))
        if lent_token and status in (401, 403):
            return DeliveryFailed(f"{error} (the lent token was refused)", permanent=False)
        return DeliveryFailed(error, permanent=True)

    def _retry_after(self, response: httpx.Response) -> float | None:
        """``Retry-After`` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
        value = response.headers.get("Retry-After", "").strip()
        if value.isdigit():
            return float(value)
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max((when - self._clock()).total_seconds(), 0.0)


def _applied(response: httpx.Response, url: str) -> DeliveryOutcome:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        return DeliveryFailed(f"POST {url} answered {response.status_code} without a Bundle", True)
    statuses = [str((entry.get("response") or {}).get("status", "")) for entry in body.get("entry") or []]
    failed = [status for status in statuses if not status.startswith("2")]
    if failed:
        return DeliveryFailed(f"POST {url}: transaction not applied (entry statuses {failed})", True)
    return Delivered()
