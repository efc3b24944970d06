"""CDS Hooks 2.0 prefetch: render templates, take what the client sent, fetch what is missing.

Per the specification: a key the client left out is fetched from ``fhirServer`` (with the
``fhirAuthorization`` token when given); a key sent as ``null`` means the client found no data. A value
sent for a key is checked against its template like a fetched one (``stratcare.cdshooks.answers``): one
that is not what the template asks for (an OperationOutcome, an Observation sent as ``patient``, a Patient
with another id, a Bundle where a read was asked) did not satisfy the key, so it is fetched again when
there is a ``fhirServer`` ("the CDS Service's responsibility to check prefetched data against its template
... and to programmatically retrieve any additional necessary data"), else the key is missing.

Every search is read in full: ``next`` links are followed, on ``fhirServer`` only, up to a page limit, for
fetched Bundles and for paged Bundles the EHR sent. The whole prefetch (every request and page) shares one
deadline. When a needed key can be neither taken nor fetched completely, the service answers 412 with an
OperationOutcome naming each key and why.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from stratcare.cdshooks.answers import link_url, unexpected_answer
from stratcare.cdshooks.models import HookRequest
from stratcare.cdshooks.paging import IncompleteSearch, all_pages
from stratcare.errors import EhrError, Issue, PrefetchUnavailable
from stratcare.fhir.client import FhirReader
from stratcare.json_types import JsonObject

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


def invalid_tokens(template: str) -> list[str]:
    """The ``{{…}}`` tokens of ``template`` that are neither ``context.<field>`` nor a user token."""
    tokens = re.findall(r"\{\{(.*?)\}\}", template)
    return [
        token
        for token in tokens
        if not re.fullmatch(r"\s*context\.[A-Za-z0-9_]+\s*", token) and token.strip() not in _USER_TOKENS
    ]


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
class PrefetchLimits:
    """How long the whole prefetch may take, and how many pages one search may have."""

    timeout_seconds: float
    max_pages: int


@dataclass(frozen=True)
class ResolvedPrefetch:
    """Every template key with its complete data (``None`` = no data), and what the service fetched.

    ``refused`` gives, for each key whose sent value did not fit its template, why (it was fetched).
    """

    values: dict[str, JsonObject | None]
    fetched: tuple[str, ...]
    refused: dict[str, str] = field(default_factory=dict)


class _WrongAnswer(Exception):
    """A 2xx answer that is not the data asked for: never read as "no data" (it could hide a screen)."""


@dataclass(frozen=True)
class _Fetch:
    base_url: str | None
    token: SecretStr | None
    reader: FhirReader
    max_pages: int

    async def complete(self, query: str, value: JsonObject | None, *, fetch: bool) -> JsonObject | None:
        if fetch:
            if self.base_url is None:
                raise IncompleteSearch("not prefetched and no fhirServer to fetch it from")
            value = await self.reader.read(self.base_url, query, self.token)
            problem = unexpected_answer(query, value)
            if problem is not None:
                raise _WrongAnswer(f"the FHIR server did not answer with the data asked for: {problem}")
        if value is None or value.get("resourceType") != "Bundle":
            return value
        return await all_pages(
            value, base_url=self.base_url, token=self.token, reader=self.reader, max_pages=self.max_pages
        )


async def resolve_prefetch(
    templates: Mapping[str, str], request: HookRequest, reader: FhirReader, limits: PrefetchLimits
) -> ResolvedPrefetch:
    supplied = request.prefetch or {}
    queries: dict[str, str] = {}
    taken: dict[str, JsonObject | None] = {}
    inapplicable: dict[str, JsonObject | None] = {}
    refused: dict[str, str] = {}
    for key, template in templates.items():
        query = render_template(template, request.context)
        if query is None:
            inapplicable[key] = None
            continue
        queries[key] = query
        if key in supplied:
            problem = unexpected_answer(query, supplied[key])
            if problem is None:
                taken[key] = supplied[key]
            else:
                refused[key] = problem
    to_fetch = sorted(key for key in queries if key not in taken)
    if to_fetch and request.fhirServer is None:
        raise PrefetchUnavailable(
            "prefetch data is missing and no fhirServer was given to fetch it",
            [_missing_issue(key, _unsatisfied(key, refused)) for key in to_fetch],
        )
    fetch = _Fetch(
        base_url=str(request.fhirServer) if request.fhirServer else None,
        token=request.fhirAuthorization.access_token if request.fhirAuthorization else None,
        reader=reader,
        max_pages=limits.max_pages,
    )
    values = await _complete_all(queries, taken, fetch, limits.timeout_seconds)
    return ResolvedPrefetch(values=inapplicable | values, fetched=tuple(to_fetch), refused=refused)


def _unsatisfied(key: str, refused: Mapping[str, str]) -> str:
    if key in refused:
        why = refused[key]
        return f"the value sent is not what the template asks for ({why}) and no fhirServer to fetch it from"
    return "not prefetched and no fhirServer to fetch it from"


async def _complete_all(
    queries: Mapping[str, str],
    taken: Mapping[str, JsonObject | None],
    fetch: _Fetch,
    timeout_seconds: float,
) -> dict[str, JsonObject | None]:
    keys = sorted(queries)
    done: set[str] = set()

    async def one(key: str) -> JsonObject | None:
        value = await fetch.complete(queries[key], taken.get(key), fetch=key not in taken)
        done.add(key)
        return value

    # Values that need no request (prefetched, no further page) are completed in place: a task each would
    # cost more than the check itself. The others are fetched concurrently.
    remote = [key for key in keys if key not in taken or _has_next_page(taken[key])]
    settled: dict[str, object] = {}
    for key in keys:
        if key not in remote:
            try:
                settled[key] = await one(key)
            except Exception as error:  # as gather(return_exceptions=True) reports it
                settled[key] = error
    try:
        async with asyncio.timeout(timeout_seconds):
            fetched = await asyncio.gather(*(one(key) for key in remote), return_exceptions=True)
    except TimeoutError:
        raise PrefetchUnavailable(
            f"the FHIR server did not answer within {timeout_seconds:.3g} s",
            [
                _missing_issue(key, "timed out before it was read in full", code="timeout")
                for key in keys
                if key not in done
            ],
        ) from None
    settled.update(zip(remote, fetched, strict=True))
    results = [settled[key] for key in keys]
    failures = [
        _failure_issue(key, result)
        for key, result in zip(keys, results, strict=True)
        if isinstance(result, EhrError | IncompleteSearch | _WrongAnswer)
    ]
    if failures:
        raise PrefetchUnavailable("prefetch data could not be read in full", failures)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return dict(zip(keys, results, strict=True))  # type: ignore[arg-type]


def _has_next_page(value: JsonObject | None) -> bool:
    return value is not None and value.get("resourceType") == "Bundle" and link_url(value, "next") is not None


def _failure_issue(key: str, failure: Exception) -> Issue:
    if isinstance(failure, IncompleteSearch):
        return _missing_issue(key, f"the record could not be read in full: {failure}", code="incomplete")
    why = failure.message if isinstance(failure, EhrError) else str(failure)
    return _missing_issue(key, why)


def _missing_issue(key: str, why: str, code: str = "not-found") -> Issue:
    return Issue(code=code, diagnostics=f"prefetch {key!r}: {why}", expression=(f"prefetch.{key}",))
