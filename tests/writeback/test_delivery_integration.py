"""The worker delivers planned Bundles to a real FHIR R4 server: searchable by identifier, never twice."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from stratcare.instruments.results import ResponseSource
from stratcare.writeback.delivery import Deliverer, TokenHandoff
from stratcare.writeback.outbox import PendingWrite
from stratcare.writeback.planner import plan_writes
from stratcare.writeback.resources import IDENTIFIER_SYSTEM
from stratcare.writeback.worker import OutboxWorker
from support.fhir_server import FhirTestServer, running_fhir_server
from support.instrument_results import start_back_result

from .fake_outbox import InMemoryOutbox

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def fhir_server() -> Iterator[FhirTestServer]:
    with running_fhir_server() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield client


def planned(fhir_server: str) -> PendingWrite:
    """A STarT Back result for a response id no other test (or earlier run) used."""
    source = ResponseSource(
        f"qr-{uuid.uuid4()}", "1", "http://stratcare.org/fhir/Questionnaire/start-back", NOW
    )
    score = start_back_result(source, "1.0.0", total=6, psychosocial=4, risk_group="high")
    (write,) = plan_writes(uuid.uuid4(), "p-1", None, fhir_server, [score])
    return write


async def search(
    http: httpx.AsyncClient, server: FhirTestServer, resource_type: str, identifier: str
) -> list[dict[str, Any]]:
    response = await http.get(
        f"{server.base_url}/{resource_type}",
        params={"identifier": f"{IDENTIFIER_SYSTEM}|{identifier}"},
        headers={"Accept": "application/fhir+json", **server.auth_headers()},
    )
    response.raise_for_status()
    return [entry["resource"] for entry in response.json().get("entry") or []]


def identifiers(write: PendingWrite) -> list[tuple[str, str]]:
    return [
        (entry["resource"]["resourceType"], entry["resource"]["identifier"][0]["value"])
        for entry in write.bundle["entry"]
    ]


async def test_delivered_resources_are_searchable_and_never_duplicated(
    fhir_server: FhirTestServer, http: httpx.AsyncClient
) -> None:
    write = planned(fhir_server.base_url)
    store = InMemoryOutbox()
    store.enqueue(write, NOW)
    handoff = TokenHandoff()
    if fhir_server.bearer_token:
        handoff.hand_over(write.key, fhir_server.base_url, SecretStr(fhir_server.bearer_token), 300)
    worker = OutboxWorker(
        store, Deliverer(http, ehr_base_url=None, handoff=handoff), clock=lambda: NOW, worker_id="w"
    )

    assert await worker.run_once() == 1
    assert store.by_key(write.key).state == "delivered", store.by_key(write.key).last_error

    found = {
        (kind, ident): await search(http, fhir_server, kind, ident) for kind, ident in identifiers(write)
    }
    assert sorted(kind for kind, _ in found) == ["Observation", "Observation", "RiskAssessment"]
    assert all(len(resources) == 1 for resources in found.values())
    (assessment,) = next(resources for (kind, _), resources in found.items() if kind == "RiskAssessment")
    observation_ids = {
        f"Observation/{resources[0]['id']}" for (kind, _), resources in found.items() if kind == "Observation"
    }
    basis = {reference["reference"] for reference in assessment["basis"]}
    assert observation_ids <= basis

    again = InMemoryOutbox()
    again.enqueue(PendingWrite("replay", write.hook_instance, write.fhir_server, write.bundle), NOW)
    if fhir_server.bearer_token:
        handoff.hand_over("replay", fhir_server.base_url, SecretStr(fhir_server.bearer_token), 300)
    replay = OutboxWorker(
        again, Deliverer(http, ehr_base_url=None, handoff=handoff), clock=lambda: NOW, worker_id="w"
    )
    assert await replay.run_once() == 1
    assert again.by_key("replay").state == "delivered"
    for kind, ident in identifiers(write):
        assert len(await search(http, fhir_server, kind, ident)) == 1


async def test_an_outage_is_retried_until_delivered(
    fhir_server: FhirTestServer, http: httpx.AsyncClient
) -> None:
    if not fhir_server.can_inject_faults or fhir_server.bearer_token:
        pytest.skip("needs the local FHIR test server")
    write = planned(fhir_server.base_url)
    store = InMemoryOutbox()
    store.enqueue(write, NOW)
    clock = [NOW]
    worker = OutboxWorker(store, Deliverer(http, ehr_base_url=None), clock=lambda: clock[0], worker_id="w")
    fhir_server.fail_next_requests(count=1, status=503, retry_after_seconds=45)

    await worker.run_once()
    row = store.by_key(write.key)
    assert row.state == "pending"
    assert row.next_attempt_at is not None
    assert row.next_attempt_at >= NOW + timedelta(seconds=45)
    assert "503" in (row.last_error or "")

    clock[0] = row.next_attempt_at
    assert await worker.run_once() == 1
    assert store.by_key(write.key).state == "delivered"
    (kind, ident) = identifiers(write)[0]
    assert len(await search(http, fhir_server, kind, ident)) == 1
