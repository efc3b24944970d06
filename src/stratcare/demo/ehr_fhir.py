"""The demo EHR's FHIR server: an in-memory record behind a real HTTP endpoint on the loopback interface.

The journey needs what a clinic has: a FHIR server the service's outbox writes to, and a record the EHR
prefetches from. This one keeps resources in memory and answers

- ``POST [base]`` with a transaction Bundle: ``POST`` entries (conditional create on ``ifNoneExist``
  ``identifier=system|value``) and ``PUT Type/id`` entries, all or nothing, answered with a
  transaction-response Bundle;
- searches the EHR runs for prefetch (``search``), with the parameters the service's templates use:
  ``patient``/``subject``, ``questionnaire``, ``status``, ``clinical-status``, ``code`` and
  ``practitioner`` (comma = OR); ``_sort``, ``_count`` and ``_include`` are result parameters. Any other
  parameter is an error, never silently ignored.

It is for the demo only: no authentication, no history, no paging.
"""

from __future__ import annotations

import copy
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from stratcare.json_types import JsonObject

RESULT_PARAMETERS = frozenset({"_sort", "_count", "_include"})
START_SECONDS = 20.0


class UnsupportedSearch(ValueError):
    """A search the demo EHR cannot answer faithfully."""


def _values(value: str) -> list[str]:
    """A search value's OR list: commas split it, ``\\,`` does not."""
    parts, current, escaped = [], "", False
    for character in value:
        if escaped:
            current, escaped = current + character, False
        elif character == "\\":
            escaped = True
        elif character == ",":
            parts.append(current)
            current = ""
        else:
            current += character
    return [*parts, current]


def _reference(value: object) -> str | None:
    return value.get("reference") if isinstance(value, dict) else None


def _patient_of(resource: JsonObject) -> str | None:
    if resource.get("resourceType") == "Patient":
        return f"Patient/{resource.get('id')}"
    for element in ("subject", "patient", "for"):
        if (reference := _reference(resource.get(element))) is not None:
            return reference
    for participant in resource.get("participant", []):
        reference = _reference(participant.get("actor")) if isinstance(participant, dict) else None
        if reference and reference.startswith("Patient/"):
            return reference
    return None


def _codes(concept: object) -> set[str]:
    codings = concept.get("coding", []) if isinstance(concept, dict) else []
    return {f"{c.get('system')}|{c.get('code')}" for c in codings if isinstance(c, dict)} | {
        str(c.get("code")) for c in codings if isinstance(c, dict)
    }


def _matches(resource: JsonObject, name: str, wanted: list[str]) -> bool:
    if name in ("patient", "subject"):
        patient = _patient_of(resource)
        return patient is not None and any(patient in (w, f"Patient/{w}") for w in wanted)
    if name == "questionnaire":
        return resource.get("questionnaire") in wanted
    if name == "status":
        return resource.get("status") in wanted
    if name == "clinical-status":
        return bool(_codes(resource.get("clinicalStatus")) & set(wanted))
    if name == "code":
        return bool(_codes(resource.get("code")) & set(wanted))
    if name == "practitioner":
        reference = _reference(resource.get("practitioner"))
        return reference is not None and any(reference in (w, f"Practitioner/{w}") for w in wanted)
    raise UnsupportedSearch(f"the demo EHR does not search by {name!r}")


class DemoEhr:
    """The record, and the FHIR operations the journey needs on it."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._resources: dict[tuple[str, str], JsonObject] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self.base_url = ""

    def put(self, resource: JsonObject) -> JsonObject:
        """Store ``resource`` under its own id (a new one when it has none); returns the stored copy."""
        stored = copy.deepcopy(resource)
        stored.setdefault("id", str(uuid.uuid4()))
        stored["meta"] = {"versionId": "1", "lastUpdated": self._clock().isoformat()}
        with self._lock:
            self._resources[(stored["resourceType"], stored["id"])] = stored
        return copy.deepcopy(stored)

    def read(self, resource_type: str, resource_id: str) -> JsonObject | None:
        with self._lock:
            found = self._resources.get((resource_type, resource_id))
        return copy.deepcopy(found) if found else None

    def all_of(self, resource_type: str) -> list[JsonObject]:
        with self._lock:
            return [copy.deepcopy(r) for (kind, _), r in self._resources.items() if kind == resource_type]

    def search(self, query: str) -> JsonObject:
        """A searchset Bundle for ``Type?name=value&…`` (see the module docstring)."""
        resource_type, _, params = query.partition("?")
        found = self.all_of(resource_type)
        for name, value in parse_qsl(params, keep_blank_values=True):
            if name not in RESULT_PARAMETERS:
                found = [r for r in found if _matches(r, name, _values(value))]
        found.sort(key=lambda r: str(r.get("authored") or r.get("authoredOn") or ""), reverse=True)
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(found),
            "entry": [
                {
                    "fullUrl": f"{self.base_url}/{r['resourceType']}/{r['id']}",
                    "resource": r,
                    "search": {"mode": "match"},
                }
                for r in found
            ],
        }

    def query(self, query: str) -> JsonObject | None:
        """A prefetch query: ``Type/id`` (None when absent) or a search."""
        if "?" in query:
            return self.search(query)
        resource_type, _, resource_id = query.strip("/").partition("/")
        return self.read(resource_type, resource_id)

    def transaction(self, bundle: JsonObject) -> JsonObject:
        """Apply a transaction Bundle, all entries or none."""
        planned: list[tuple[JsonObject, str, bool]] = []  # resource, status, whether to store it
        for entry in bundle.get("entry", []):
            resource, request = entry["resource"], entry["request"]
            if request["method"] == "PUT":
                planned.append((resource | {"id": request["url"].split("/")[1]}, "200 OK", True))
            elif request["method"] == "POST":
                existing = self._conditional_match(resource["resourceType"], request.get("ifNoneExist"))
                planned.append((existing, "200 OK", False) if existing else (resource, "201 Created", True))
            else:
                raise UnsupportedSearch(f"the demo EHR does not apply {request['method']} entries")
        responses = []
        for resource, status, store in planned:
            stored = self.put(resource) if store else resource
            location = f"{stored['resourceType']}/{stored['id']}/_history/1"
            responses.append({"response": {"status": status, "location": location}})
        return {"resourceType": "Bundle", "type": "transaction-response", "entry": responses}

    def _conditional_match(self, resource_type: str, condition: str | None) -> JsonObject | None:
        if not condition:
            return None
        name, _, value = condition.partition("=")
        if name != "identifier":
            raise UnsupportedSearch(f"the demo EHR does not create on condition {name!r}")
        for resource in self.all_of(resource_type):
            held = {f"{i.get('system')}|{i.get('value')}" for i in resource.get("identifier", [])}
            if value in held:
                return resource
        return None

    def app(self) -> Starlette:
        async def transaction(request: Request) -> Response:
            try:
                return JSONResponse(self.transaction(await request.json()))
            except (UnsupportedSearch, KeyError, IndexError, ValueError) as exc:
                outcome = {
                    "resourceType": "OperationOutcome",
                    "issue": [{"severity": "error", "code": "not-supported", "diagnostics": str(exc)}],
                }
                return JSONResponse(outcome, status_code=400)

        return Starlette(routes=[Route("/fhir", transaction, methods=["POST"])])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(ehr: DemoEhr) -> Iterator[DemoEhr]:
    """Serve ``ehr`` on ``http://127.0.0.1:<free port>/fhir`` for the duration."""
    port = _free_port()
    ehr.base_url = f"http://127.0.0.1:{port}/fhir"
    config = uvicorn.Config(ehr.app(), host="127.0.0.1", port=port, log_level="error", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="demo-ehr-fhir", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_SECONDS
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the demo EHR's FHIR server did not start")
        time.sleep(0.02)
    try:
        yield ehr
    finally:
        server.should_exit = True
        thread.join(timeout=10)
