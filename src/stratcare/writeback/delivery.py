"""Sends one outbox Bundle to its FHIR server; a failure's class says whether a later attempt may succeed.

Credentials, in order: the access token the hook call lent (``fhirAuthorization``), handed over in memory
for the first attempt only and never stored; else stratcare's own SMART Backend Services token when one is
configured for that server; else none (open test servers).

The Bundle goes out through the FHIR transport (``fhir.client``), which classifies failures. They are
``EhrTechnicalError`` (connection errors, timeouts, the statuses ``fhir.retryable`` names, a lent token
the server refused) or ``EhrRejectedError`` (any other 4xx, e.g. an invalid Bundle, or a server that
answers with something other than a transaction-response). The error text names status and server
diagnostics, never a token.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import httpx
from pydantic import SecretStr

from stratcare.errors import EhrRejectedError, EhrTechnicalError
from stratcare.fhir.client import FhirWriter, HttpxFhirClient
from stratcare.writeback.outbox import ClaimedWrite
from stratcare.writeback.targets import WritebackTargets

HANDOFF_MAX_SECONDS = 300.0
"""A lent token is kept for the immediate attempt only, however long the EHR says it lives."""


class TokenSource(Protocol):
    async def token(self) -> SecretStr: ...


class WriteDeliverer(Protocol):
    async def deliver(self, write: ClaimedWrite) -> None:
        """Returns once the server applied the write; raises ``EhrTechnicalError`` when a later attempt
        may succeed, ``EhrRejectedError`` when none can."""
        ...


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
        self._fhir: FhirWriter = HttpxFhirClient(http, clock=clock)
        self._ehr_base_url = ehr_base_url
        self._targets = targets
        # Not `handoff or ...`: an empty TokenHandoff is falsy (it has a length) yet must be shared.
        self._handoff = handoff if handoff is not None else TokenHandoff()
        self._backend = {base_url_key(url): source for url, source in (backend_tokens or {}).items()}

    async def deliver(self, write: ClaimedWrite) -> None:
        base_url = write.fhir_server or self._ehr_base_url
        if not base_url:
            raise EhrRejectedError("no FHIR server: the hook sent none and no EHR base URL is set")
        if self._targets is not None and not self._targets.configured(base_url):
            raise EhrRejectedError(f"{base_url_key(base_url)} is not configured for write-back")
        lent = self._handoff.take(write.key, base_url)
        token = lent if lent is not None else await self._backend_token(base_url)
        try:
            await self._fhir.transaction(base_url, write.bundle, token)
        except EhrRejectedError as refused:
            if lent is None or refused.status not in (401, 403):
                raise
            # Another attempt goes with stratcare's own credentials, which the server may accept.
            message = f"{refused.message} (the lent token was refused)"
            raise EhrTechnicalError(message, status=refused.status) from refused

    async def _backend_token(self, base_url: str) -> SecretStr | None:
        source = self._backend.get(base_url_key(base_url))
        return await source.token() if source else None
