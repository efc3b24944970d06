"""Several workers drain one PostgreSQL outbox: every write delivered once, none lost, none twice."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime

import httpx
import pytest

from stratcare.store import SqlLedgers
from stratcare.writeback.delivery import Deliverer
from stratcare.writeback.operations import drain
from stratcare.writeback.outbox import OutboxStatus
from stratcare.writeback.wiring import build_worker
from stratcare.writeback.worker import OutboxWorker
from support.fhir_server import FhirTestServer

from .bulk import RESOURCES_PER_WRITE, queue_writes
from .conftest import identifier_of, make_settings, of_patient
from .recording_server import recording_server

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def now() -> datetime:
    return datetime.now(UTC)


@asynccontextmanager
async def worker_on_own_engine(database_url: str, worker_id: str) -> AsyncIterator[OutboxWorker]:
    """A worker as a separate process would have it: its own engine and HTTP client."""
    settings = make_settings(database_url)
    async with AsyncExitStack() as stack:
        ledgers = await SqlLedgers.open(database_url)
        stack.push_async_callback(ledgers.close)
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=60.0))
        deliverer = Deliverer(http, ehr_base_url=None)
        yield build_worker(settings.writeback, ledgers.outbox(), deliverer, now, worker_id)


async def drain_with_two_workers(database_url: str) -> tuple[list[int], OutboxStatus]:
    """Rows each worker claimed, and the outbox afterwards."""
    async with (
        worker_on_own_engine(database_url, "worker-a") as first,
        worker_on_own_engine(database_url, "worker-b") as second,
    ):
        claimed = await asyncio.gather(drain(first), drain(second))
    ledgers = await SqlLedgers.open(database_url)
    try:
        return list(claimed), await ledgers.outbox().status(now())
    finally:
        await ledgers.close()


async def queue(database_url: str, fhir_server: str, patient_id: str, writes: int) -> None:
    ledgers = await SqlLedgers.open(database_url)
    try:
        await queue_writes(ledgers, fhir_server, patient_id, writes)
    finally:
        await ledgers.close()


def assert_all_delivered(claimed: list[int], status: OutboxStatus, writes: int) -> None:
    assert sum(claimed) == writes, f"claims {claimed}: a write was claimed twice, or one never"
    assert all(claimed), f"claims {claimed}: one worker did all the work"
    assert (status.delivered, status.pending, status.in_flight, status.dead) == (writes, 0, 0, 0), status


async def assert_written_once(http: httpx.AsyncClient, patient_id: str, writes: int) -> None:
    for resource_type, per_write in RESOURCES_PER_WRITE.items():
        found = await of_patient(http, resource_type, patient_id)
        copies = Counter(identifier_of(resource) for resource in found)
        assert len(copies) == writes * per_write, f"{resource_type}: some writes are missing"
        assert set(copies.values()) == {1}, f"{resource_type}: written more than once"


async def test_two_workers_send_each_of_a_thousand_writes_once(postgres_url: str) -> None:
    """Every Bundle reaches the server exactly once: no row is claimed by both workers, none is left."""
    writes, patient = 1000, f"bulk-{uuid.uuid4().hex[:12]}"
    with recording_server(delay_seconds=0.002) as server:
        await queue(postgres_url, server.base_url, patient, writes)
        claimed, status = await drain_with_two_workers(postgres_url)
        received = server.received()

    assert_all_delivered(claimed, status, writes)
    assert len(received) == writes * sum(RESOURCES_PER_WRITE.values())
    assert set(received.values()) == {1}, "some Bundle was sent twice"


async def test_two_workers_write_a_thousand_results_once_to_a_fhir_server(
    postgres_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient
) -> None:
    if fhir_server.bearer_token:
        pytest.skip("queued writes carry no token: needs an open FHIR server")
    writes, patient = 1000, f"pair-{uuid.uuid4().hex[:12]}"
    await queue(postgres_url, fhir_server.base_url, patient, writes)

    claimed, status = await drain_with_two_workers(postgres_url)

    assert_all_delivered(claimed, status, writes)
    await assert_written_once(fhir_http, patient, writes)


def stratcare(*arguments: str, database_url: str, writes_to: str | None = None) -> subprocess.Popen[str]:
    environment = {
        **os.environ,
        "STRATCARE_DATABASE_URL": database_url,
        "STRATCARE_WRITEBACK_BATCH_SIZE": "10",
        "STRATCARE_AUTH": "off",
        "STRATCARE_WRITEBACK_ALLOWLIST": json.dumps([writes_to] if writes_to else []),
    }
    command = [sys.executable, "-m", "stratcare.cli", *arguments]
    return subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finished(process: subprocess.Popen[str]) -> str:
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    return stdout


async def test_worker_processes_drain_the_queue_and_report_it(postgres_url: str) -> None:
    writes, patient = 100, f"cli-{uuid.uuid4().hex[:12]}"
    with recording_server() as server:
        await queue(postgres_url, server.base_url, patient, writes)
        before = json.loads(finished(stratcare("outbox", "status", "--json", database_url=postgres_url)))
        workers = [
            stratcare("worker", "--once", database_url=postgres_url, writes_to=server.base_url)
            for _ in range(2)
        ]
        attempted = [finished(process) for process in workers]
        received = server.received()

    assert before["pending"] == writes
    assert before["oldestPendingAgeSeconds"] >= 0
    after = json.loads(finished(stratcare("outbox", "status", "--json", database_url=postgres_url)))
    assert sum(int(line.split()[1]) for line in attempted) == writes, attempted
    assert after == {
        "pending": 0,
        "inFlight": 0,
        "delivered": writes,
        "dead": 0,
        "oldestPendingAgeSeconds": None,
        "lastDeadError": None,
    }
    assert set(received.values()) == {1}
    assert len(received) == writes * sum(RESOURCES_PER_WRITE.values())
