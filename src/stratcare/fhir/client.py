"""The one FHIR transport: reads and transactions against an EHR's FHIR server over httpx.

Failures become domain errors. Transport errors, timeouts and the statuses ``fhir.retryable`` names are
``EhrTechnicalError`` (a retry may succeed, after the server's ``Retry-After`` if it sent one); other 4xx,
and answers that are not what FHIR promises, are ``EhrRejectedError``. The bearer token is attached per
call, never stored on the client, and cut from every error text (a server may echo it in diagnostics).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

import httpx
from pydantic import SecretStr

from stratcare.errors import EhrError, EhrRejectedError, EhrTechnicalError
from stratcare.fhir.retryable import is_retryable_status, status_error
from stratcare.json_types import JsonObject

FHIR_JSON = "application/fhir+json"
REDACTED = "[redacted]"


class FhirReader(Protocol):
    async def read(self, base_url: str, relative_url: str, token: SecretStr | None) -> JsonObject | None:
        """GET ``relative_url`` against ``base_url``; ``None`` when the server has no such resource."""
        ...

    async def read_url(self, url: str, token: SecretStr | None) -> JsonObject | None:
        """GET an absolute URL the server gave (a Bundle's ``next`` link); ``None`` on 404 or 410."""
        ...


class FhirWriter(Protocol):
    async def transaction(self, base_url: str, bundle: JsonObject, token: SecretStr | None) -> JsonObject:
        """POST a transaction Bundle; the transaction-response Bundle, or an ``EhrError``."""
        ...


def join_fhir_url(base_url: str, relative_url: str) -> str:
    return f"{base_url.rstrip('/')}/{relative_url.lstrip('/')}"


def _headers(token: SecretStr | None) -> dict[str, str]:
    headers = {"Accept": FHIR_JSON}
    if token is not None:
        headers["Authorization"] = f"Bearer {token.get_secret_value()}"
    return headers


class HttpxFhirClient:
    """The EHR over HTTP. A search answers with one page; the caller follows its ``next`` links."""

    def __init__(
        self, http: httpx.AsyncClient, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._http = http
        self._clock = clock

    async def read(self, base_url: str, relative_url: str, token: SecretStr | None) -> JsonObject | None:
        return await self._get_json(join_fhir_url(base_url, relative_url), token)

    async def read_url(self, url: str, token: SecretStr | None) -> JsonObject | None:
        return await self._get_json(url, token)

    async def transaction(self, base_url: str, bundle: JsonObject, token: SecretStr | None) -> JsonObject:
        url = base_url.rstrip("/")
        what = f"POST {url}"
        headers = _headers(token) | {"Content-Type": FHIR_JSON}
        response = await self._send(self._http.post(url, json=bundle, headers=headers), what)
        if not response.is_success:
            raise self._status_error(response, what, token)
        body = _json_body(response)
        if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
            raise EhrRejectedError(f"{what} answered {response.status_code} without a Bundle")
        entries = body.get("entry") or []
        statuses = [str((entry.get("response") or {}).get("status", "")) for entry in entries]
        failed = [status for status in statuses if not status.startswith("2")]
        if failed:
            raise EhrRejectedError(f"{what}: transaction not applied (entry statuses {failed})")
        return body

    async def _get_json(self, url: str, token: SecretStr | None) -> JsonObject | None:
        what = f"GET {_redact_query(url)}"
        response = await self._send(self._http.get(url, headers=_headers(token)), what)
        if response.status_code in (404, 410):
            return None
        if response.is_error:
            raise self._status_error(response, what, token)
        body = _json_body(response)
        if not isinstance(body, dict):
            raise EhrRejectedError(f"{what} answered {response.status_code} without a JSON object")
        return body

    async def _send(self, sending: Awaitable[httpx.Response], what: str) -> httpx.Response:
        try:
            return await sending
        except httpx.HTTPError as exc:
            raise EhrTechnicalError(f"{what} failed: {type(exc).__name__}") from exc

    def _status_error(self, response: httpx.Response, what: str, token: SecretStr | None) -> EhrError:
        status = response.status_code
        message = _without_token(f"{what} answered {status}{outcome_diagnostics(response)}", token)
        wait = self._retry_after(response) if is_retryable_status(status) else None
        return status_error(message, status, wait)

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


def outcome_diagnostics(response: httpx.Response) -> str:
    """The first OperationOutcome diagnostics, which says what the server disliked (no patient data)."""
    body = _json_body(response)
    issues = body.get("issue") if isinstance(body, dict) else None
    if isinstance(issues, list) and issues and isinstance(issues[0], dict):
        text = issues[0].get("diagnostics") or issues[0].get("code")
        return f": {str(text)[:200]}" if text else ""
    return ""


def _json_body(response: httpx.Response) -> object:
    try:
        body: object = response.json()
    except ValueError:
        return None
    return body


def _without_token(text: str, token: SecretStr | None) -> str:
    secret = token.get_secret_value() if token is not None else ""
    return text.replace(secret, REDACTED) if secret else text


def _redact_query(url: str) -> str:
    """Drop the query string: search parameters can carry patient identifiers."""
    return url.split("?", 1)[0]
