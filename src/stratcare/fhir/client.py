"""Reads from an EHR's FHIR server over httpx, turning transport failures into domain errors.

Transport errors, timeouts and the statuses ``fhir.retryable`` names are *technical* (a retry may succeed);
other 4xx are *logical*.
The bearer token is attached per call and never stored on the client.
"""

from __future__ import annotations

from typing import Protocol

import httpx
from pydantic import SecretStr

from stratcare.errors import FhirServerError
from stratcare.fhir.retryable import is_retryable_status
from stratcare.json_types import JsonObject

FHIR_JSON = "application/fhir+json"


class FhirReader(Protocol):
    async def read(self, base_url: str, relative_url: str, token: SecretStr | None) -> JsonObject | None:
        """GET ``relative_url`` against ``base_url``; ``None`` when the server has no such resource."""
        ...

    async def read_url(self, url: str, token: SecretStr | None) -> JsonObject | None:
        """GET an absolute URL the server gave (a Bundle's ``next`` link); ``None`` on 404 or 410."""
        ...


class FhirWriter(Protocol):
    async def transaction(self, base_url: str, bundle: JsonObject, token: SecretStr | None) -> JsonObject:
        """POST a transaction Bundle; the transaction-response Bundle, or FhirServerError."""
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

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def read(self, base_url: str, relative_url: str, token: SecretStr | None) -> JsonObject | None:
        return await self._get_json(join_fhir_url(base_url, relative_url), token)

    async def read_url(self, url: str, token: SecretStr | None) -> JsonObject | None:
        return await self._get_json(url, token)

    async def transaction(self, base_url: str, bundle: JsonObject, token: SecretStr | None) -> JsonObject:
        url = base_url.rstrip("/")
        headers = _headers(token) | {"Content-Type": FHIR_JSON}
        try:
            response = await self._http.post(url, json=bundle, headers=headers)
        except httpx.HTTPError as exc:
            raise FhirServerError(
                f"FHIR server unreachable for POST {url}: {type(exc).__name__}", technical=True
            ) from exc
        if response.is_error:
            raise _status_error(response, f"POST {url}")
        body = _json_object(response, f"POST {url}")
        failed = [
            entry.get("response", {}).get("status")
            for entry in body.get("entry") or []
            if not str(entry.get("response", {}).get("status", "")).startswith("2")
        ]
        if body.get("resourceType") != "Bundle" or failed:
            raise FhirServerError(f"transaction was not applied (entry statuses {failed})", technical=False)
        return body

    async def _get_json(self, url: str, token: SecretStr | None) -> JsonObject | None:
        try:
            response = await self._http.get(url, headers=_headers(token))
        except httpx.HTTPError as exc:
            raise FhirServerError(
                f"FHIR server unreachable for GET {_redact(url)}: {type(exc).__name__}",
                technical=True,
            ) from exc
        if response.status_code in (404, 410):
            return None
        if response.is_error:
            raise _status_error(response, f"GET {_redact(url)}")
        return _json_object(response, f"GET {_redact(url)}")


def _status_error(response: httpx.Response, what: str) -> FhirServerError:
    return FhirServerError(
        f"FHIR server answered {response.status_code} for {what}{outcome_diagnostics(response)}",
        technical=is_retryable_status(response.status_code),
        status=response.status_code,
    )


def outcome_diagnostics(response: httpx.Response) -> str:
    """The first OperationOutcome diagnostics, which says what the server disliked (no patient data)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    issues = body.get("issue") if isinstance(body, dict) else None
    if isinstance(issues, list) and issues and isinstance(issues[0], dict):
        text = issues[0].get("diagnostics") or issues[0].get("code")
        return f": {str(text)[:200]}" if text else ""
    return ""


def _json_object(response: httpx.Response, what: str) -> JsonObject:
    try:
        body = response.json()
    except ValueError as exc:
        raise FhirServerError(
            f"FHIR server sent a body that is not JSON for {what}", technical=False
        ) from exc
    if not isinstance(body, dict):
        raise FhirServerError(f"FHIR server sent a non-object for {what}", technical=False)
    return body


def _redact(url: str) -> str:
    """Drop the query string: search parameters can carry patient identifiers."""
    return url.split("?", 1)[0]
