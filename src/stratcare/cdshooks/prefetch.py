"""CDS Hooks 2.0 prefetch: render templates, take what the client sent, fetch what is missing.

Per the specification: a key the client left out is fetched from ``fhirServer`` (with the
``fhirAuthorization`` token when given); a key sent as ``null`` means the client found no data; an
OperationOutcome sent in place of data means the client could not fetch it, so it counts as missing.
When a needed key can be neither taken nor fetched, the service answers 412.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stratcare.cdshooks.models import HookRequest
from stratcare.errors import FhirServerError, Issue, PrefetchUnavailable
from stratcare.fhir.client import FhirReader

JsonObject = dict[str, Any]

_TOKEN = re.compile(r"\{\{\s*([A-Za-z0-9_.]+)\s*\}\}")
# Spec 2.0 "Prefetch tokens identifying the user": derived from context.userId by its resource type.
_USER_TOKENS = {
    "userPractitionerId": "Practitioner",
    "userPractitionerRoleId": "PractitionerRole",
    "userPatientId": "Patient",
    "userRelatedPersonId": "RelatedPerson",
}


def _token_value(token: str, context: Mapping[str, Any]) -> str | None:
    if token.startswith("context."):
        value = context.get(token.removeprefix("context."))
        return value if isinstance(value, str) and value else None
    resource_type = _USER_TOKENS.get(token)
    user = context.get("userId")
    if resource_type and isinstance(user, str) and user.startswith(f"{resource_type}/"):
        return user.split("/", 1)[1] or None
    return None


def render_template(template: str, context: Mapping[str, Any]) -> str | None:
    """Replace every prefetch token; ``None`` when a token has no value (the key does not apply)."""
    missing = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal missing
        value = _token_value(match.group(1), context)
        if value is None:
            missing = True
            return ""
        return value

    rendered = _TOKEN.sub(substitute, template)
    return None if missing else rendered


@dataclass(frozen=True)
class ResolvedPrefetch:
    """Every template key with its data (``None`` = no data) and which keys the service fetched."""

    values: dict[str, JsonObject | None]
    fetched: tuple[str, ...]


def _usable(value: JsonObject | None) -> bool:
    return value is None or value.get("resourceType") != "OperationOutcome"


async def resolve_prefetch(
    templates: Mapping[str, str],
    request: HookRequest,
    reader: FhirReader,
    timeout_seconds: float,
) -> ResolvedPrefetch:
    supplied = request.prefetch or {}
    values: dict[str, JsonObject | None] = {}
    to_fetch: dict[str, str] = {}
    for key, template in templates.items():
        query = render_template(template, request.context)
        if query is None:
            values[key] = None
        elif key in supplied and _usable(supplied[key]):
            values[key] = supplied[key]
        else:
            to_fetch[key] = query
    if to_fetch:
        values.update(await _fetch_all(to_fetch, request, reader, timeout_seconds))
    return ResolvedPrefetch(values=values, fetched=tuple(sorted(to_fetch)))


async def _fetch_all(
    queries: dict[str, str], request: HookRequest, reader: FhirReader, timeout_seconds: float
) -> dict[str, JsonObject | None]:
    keys = sorted(queries)
    if request.fhirServer is None:
        raise PrefetchUnavailable(
            "prefetch data is missing and no fhirServer was given to fetch it",
            [_missing_issue(key, "not prefetched and no fhirServer to fetch it from") for key in keys],
        )
    base_url = str(request.fhirServer)
    token = request.fhirAuthorization.access_token if request.fhirAuthorization else None
    calls = [reader.read(base_url, queries[key], token) for key in keys]
    try:
        async with asyncio.timeout(timeout_seconds):
            results = await asyncio.gather(*calls, return_exceptions=True)
    except TimeoutError:
        raise PrefetchUnavailable(
            f"the FHIR server did not answer within {timeout_seconds:g} s",
            [_missing_issue(key, "timed out") for key in keys],
        ) from None
    failures = [
        _missing_issue(key, result.message)
        for key, result in zip(keys, results, strict=True)
        if isinstance(result, FhirServerError)
    ]
    if failures:
        raise PrefetchUnavailable("prefetch data could not be fetched from the FHIR server", failures)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    fetched: dict[str, JsonObject | None] = dict(zip(keys, results, strict=True))  # type: ignore[arg-type]
    wrong = [
        _missing_issue(key, problem)
        for key in keys
        if (problem := unexpected_answer(queries[key], fetched[key])) is not None
    ]
    if wrong:
        raise PrefetchUnavailable("the FHIR server did not answer with the data asked for", wrong)
    return fetched


def unexpected_answer(query: str, answer: JsonObject | None) -> str | None:
    """Why a 2xx answer is not the data ``query`` asked for (an error page must never read as "no data")."""
    if answer is None:
        return None  # a read answered 404 or 410: the resource does not exist
    kind = answer.get("resourceType")
    if kind == "OperationOutcome":
        return "the FHIR server answered with an OperationOutcome instead of data"
    path = query.split("?", 1)[0].strip("/")
    expected = "Bundle" if "?" in query or "/" not in path else path.split("/", 1)[0]
    return None if kind == expected else f"expected a {expected}, the FHIR server answered with {kind!r}"


def _missing_issue(key: str, why: str) -> Issue:
    return Issue(code="not-found", diagnostics=f"prefetch {key!r}: {why}", expression=(f"prefetch.{key}",))
