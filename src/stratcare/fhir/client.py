"""Reads from an EHR's FHIR server over httpx, turning transport failures into domain errors.

Transport errors, timeouts, 429 and 5xx are *technical* (a retry may succeed); other 4xx are *logical*.
The bearer token is attached per call and never stored on the client.
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx
from pydantic import SecretStr

from stratcare.errors import FhirServerError

JsonObject = dict[str, Any]
FHIR_JSON = "application/fhir+json"


class FhirReader(Protocol):
    async def read(self, base_url: str, relative_url: str, token: SecretStr | None) -> JsonObject | None:
        """GET ``relative_url`` against ``base_url``; ``None`` when the server has no such resource."""
        ...


def join_fhir_url(base_url: str, relative_url: str) -> str:
    return f"{base_url.rstrip('/')}/{relative_url.lstrip('/')}"


def _headers(token: SecretStr | None) -> dict[str, str]:
    headers = {"Accept": FHIR_JSON}
    if token is not None:
        headers["Authorization"] = f"Bearer {token.get_secret_value()}"
    return headers


def _is_technical(status: int) -> bool:
    return status == 429 or status >= 500


class HttpxFhirClient:
    """The EHR over HTTP.

    A search answers with its first page only, as an EHR's own prefetch would: templates say how much
    they need with ``_count``.
    """

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def read(self, base_url: str, relative_url: str, token: SecretStr | None) -> JsonObject | None:
        return await self._get_json(join_fhir_url(base_url, relative_url), token)

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
            raise FhirServerError(
                f"FHIR server answered {response.status_code} for GET {_redact(url)}",
                technical=_is_technical(response.status_code),
                status=response.status_code,
            )
        try:
            body = response.json()
        except ValueError as exc:
            raise FhirServerError(
                f"FHIR server sent a body that is not JSON for GET {_redact(url)}", technical=False
            ) from exc
        if not isinstance(body, dict):
            raise FhirServerError(f"FHIR server sent a non-object for {_redact(url)}", technical=False)
        return body


def _redact(url: str) -> str:
    """Drop the query string: search parameters can carry patient identifiers."""
    return url.split("?", 1)[0]
