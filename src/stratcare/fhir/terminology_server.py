"""A FHIR terminology server asked whether one concept is another or a descendant of it.

``$validate-code`` against SNOMED CT's implicit ValueSet ``http://snomed.info/sct?fhir_vs=isa/<id>``
(FHIR R4, "Using SNOMED CT with HL7 Standards", implicit value sets: every concept subsumed by the given
one, itself included), answered by the ``result`` parameter of the returned Parameters resource. Any other
answer (transport error, non-200, no boolean ``result``) raises ``TerminologyUnavailable``: the caller then
falls back to the shipped expansion, never to "not a member".
"""

from __future__ import annotations

from typing import Any

import httpx

SNOMED_CT = "http://snomed.info/sct"


class TerminologyUnavailable(Exception):
    """The terminology server gave no usable answer."""


def implicit_is_a_value_set(system: str, ancestor: str) -> str:
    if system != SNOMED_CT:
        raise TerminologyUnavailable(f"no implicit is-a ValueSet is defined for {system}")
    return f"{SNOMED_CT}?fhir_vs=isa/{ancestor}"


def _result(body: Any) -> bool:
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise TerminologyUnavailable("$validate-code did not return Parameters")
    for parameter in body.get("parameter", []):
        if isinstance(parameter, dict) and parameter.get("name") == "result":
            value = parameter.get("valueBoolean")
            if isinstance(value, bool):
                return value
    raise TerminologyUnavailable("$validate-code returned no boolean result")


class HttpxTerminologyServer:
    """``ValueSet/$validate-code`` over one shared httpx client whose timeouts bound every request."""

    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self._http = http
        self._url = f"{base_url.rstrip('/')}/ValueSet/$validate-code"

    async def is_a(self, system: str, ancestor: str, code: str) -> bool:
        params = {"url": implicit_is_a_value_set(system, ancestor), "system": system, "code": code}
        try:
            response = await self._http.get(
                self._url, params=params, headers={"Accept": "application/fhir+json"}
            )
        except httpx.HTTPError as exc:
            raise TerminologyUnavailable(f"terminology server unreachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise TerminologyUnavailable(f"terminology server answered {response.status_code}")
        try:
            return _result(response.json())
        except ValueError as exc:
            raise TerminologyUnavailable("terminology server sent invalid JSON") from exc
