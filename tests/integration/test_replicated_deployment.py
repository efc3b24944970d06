"""The deployment of deploy/ in miniature: three `stratcare serve` and two `stratcare worker` processes on one
PostgreSQL, under load, with one web process and one worker killed by SIGKILL mid-run.

Every hook call is answered 200, or refused by the killed process (a connection refused or closed, which an
EHR's load balancer retries on another replica: so does this client, with the same body). Every queued write
reaches the FHIR endpoint; the only Bundles that arrive twice are ones whose first claim was lost with the
killed worker (their lease ran out and the survivor sent them again), and each entry of those is a
conditional create on its identifier, so a FHIR server keeps one copy: counted by identifier, every write is
delivered exactly once.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from stratcare.demo.scenarios import load_scenarios
from stratcare.writeback.resources import IDENTIFIER_SYSTEM

from .recording_server import TransactionRecorder, recording_server

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

SERVICE = "start-back-encounter-start"
WEB_PROCESSES, WORKER_PROCESSES = 3, 2
CALLS, IN_FLIGHT = 120, 12
KILL_AFTER_ANSWERS = CALLS // 3
CALL_TIMEOUT_SECONDS = 30.0
"""A call that takes longer is a hang, and fails the test."""
LOAD_DEADLINE_SECONDS = 240.0
START_DEADLINE_SECONDS = 60.0
DRAIN_DEADLINE_SECONDS = 120.0
LEASE_SECONDS = 5
REFUSALS = (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
"""How a client sees a process that is gone: nothing listens, or the connection closed without an answer."""
PROCESS_SETTINGS = {
    "STRATCARE_AUTH": "off",
    "STRATCARE_LOG_LEVEL": "WARNING",
    "STRATCARE_WRITEBACK_RUN_IN_PROCESS": "false",
    "STRATCARE_WRITEBACK_BATCH_SIZE": "5",
    "STRATCARE_WRITEBACK_CONCURRENCY": "5",
    "STRATCARE_WRITEBACK_LEASE_SECONDS": str(LEASE_SECONDS),
    "STRATCARE_WRITEBACK_IDLE_POLL_SECONDS": "0.1",
    "STRATCARE_WRITEBACK_BACKOFF_BASE_SECONDS": "0.05",
    "STRATCARE_WRITEBACK_BACKOFF_MAX_SECONDS": "0.2",
    "STRATCARE_DB_MIGRATE_ON_START": "false",
}


class ConditionalCreateRecorder(TransactionRecorder):
    """Also checks that each entry is a create that a FHIR server would skip when its identifier exists."""

    def __init__(self, delay_seconds: float) -> None:
        super().__init__(delay_seconds)
        self.unconditional: list[str] = []

    def record(self, bundle: dict[str, Any]) -> list[dict[str, Any]]:
        for entry in bundle.get("entry") or []:
            (identifier,) = entry["resource"]["identifier"]
            wanted = f"identifier={IDENTIFIER_SYSTEM}|{identifier['value']}"
            if identifier["system"] != IDENTIFIER_SYSTEM or entry["request"].get("ifNoneExist") != wanted:
                self.unconditional.append(str(identifier["value"]))
        return super().record(bundle)


@dataclass
class LoadReport:
    answered: dict[str, int] = field(default_factory=dict)
    """hookInstance → status of the answer it finally got."""
    refused_by: Counter[int] = field(default_factory=Counter)
    """Port → calls it refused or dropped."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def stratcare_process(
    arguments: list[str], database_url: str, logs: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A stratcare process with its output in ``logs`` (a pipe nobody reads would stall it)."""
    environment = {**os.environ, **PROCESS_SETTINGS, "STRATCARE_DATABASE_URL": database_url}
    with logs.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "stratcare.cli", *arguments],
            env=environment,
            cwd=logs.parent,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def hook_call(fhir_server: str) -> dict[str, Any]:
    """The demo's high-risk call, for a patient, encounter and responses of its own, written back to
    ``fhir_server``."""
    (scenario,) = [scenario for scenario in load_scenarios() if scenario.name == "high-risk"]
    body: dict[str, Any] = json.loads(json.dumps(scenario.request).replace("demo-high", uuid.uuid4().hex))
    body["hookInstance"] = str(uuid.uuid4())
    body["fhirServer"] = fhir_server
    return body


async def wait_until_serving(http: httpx.AsyncClient, ports: list[int], processes: list[Any]) -> None:
    deadline = time.monotonic() + START_DEADLINE_SECONDS
    waiting = set(ports)
    while waiting:
        for process in processes:
            assert process.poll() is None, f"a stratcare process exited at start-up ({process.args})"
        for port in sorted(waiting):
            try:
                if (await http.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                    waiting.discard(port)
            except httpx.TransportError:
                pass
        if time.monotonic() > deadline:
            pytest.fail(f"ports {sorted(waiting)} did not serve /health within {START_DEADLINE_SECONDS} s")
        await asyncio.sleep(0.2)


async def call_until_answered(
    http: httpx.AsyncClient, body: dict[str, Any], ports: list[int], first: int, report: LoadReport
) -> None:
    """Send to ``ports[first]``; where a replica refuses, send the same body to the next, as a load balancer
    does. Any answer but a connection refused or dropped ends the call."""
    for step in range(len(ports)):
        port = ports[(first + step) % len(ports)]
        try:
            response = await http.post(f"http://127.0.0.1:{port}/cds-services/{SERVICE}", json=body)
        except REFUSALS:
            report.refused_by[port] += 1
            continue
        report.answered[body["hookInstance"]] = response.status_code
        return
    pytest.fail(f"every replica refused hook call {body['hookInstance']}")


async def run_load(ports: list[int], fhir_server: str, kill: Callable[[], None], report: LoadReport) -> None:
    """``CALLS`` hook calls, ``IN_FLIGHT`` at a time, spread over ``ports``; ``kill()`` once a third is
    answered."""
    slots = asyncio.Semaphore(IN_FLIGHT)
    killed = False
    limits = httpx.Limits(max_connections=IN_FLIGHT * len(ports))
    async with httpx.AsyncClient(timeout=CALL_TIMEOUT_SECONDS, limits=limits) as http:

        async def one(index: int) -> None:
            nonlocal killed
            async with slots:
                await call_until_answered(http, hook_call(fhir_server), ports, index, report)
                if not killed and len(report.answered) >= KILL_AFTER_ANSWERS:
                    killed = True
                    kill()

        async with asyncio.timeout(LOAD_DEADLINE_SECONDS):
            await asyncio.gather(*(one(index) for index in range(CALLS)))


async def wait_for_drain(port: int) -> dict[str, Any]:
    """The outbox as a surviving replica's /health reports it, once nothing waits or is in flight."""
    deadline = time.monotonic() + DRAIN_DEADLINE_SECONDS
    async with httpx.AsyncClient(timeout=CALL_TIMEOUT_SECONDS) as http:
        while True:
            outbox: dict[str, Any] = (await http.get(f"http://127.0.0.1:{port}/health")).json()["outbox"]
            if outbox["pending"] == outbox["inFlight"] == 0:
                return outbox
            if time.monotonic() > deadline:
                pytest.fail(f"the outbox did not drain within {DRAIN_DEADLINE_SECONDS} s: {outbox}")
            await asyncio.sleep(0.2)


@dataclass(frozen=True)
class OutboxRow:
    hook_instance: str
    state: str
    attempts: int
    identifiers: tuple[str, ...]


def outbox_rows(database_url: str) -> list[OutboxRow]:
    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as connection:
        rows = connection.execute("SELECT hook_instance, state, attempts, bundle FROM outbox").fetchall()
    return [
        OutboxRow(
            str(hook_instance),
            state,
            attempts,
            tuple(entry["resource"]["identifier"][0]["value"] for entry in bundle["entry"]),
        )
        for hook_instance, state, attempts, bundle in rows
    ]


async def test_killing_a_web_process_and_a_worker_loses_no_call_and_no_write(
    postgres_url: str, tmp_path: Path
) -> None:
    ports = [free_port() for _ in range(WEB_PROCESSES)]
    with ExitStack() as stack:
        recorder = stack.enter_context(
            recording_server(delay_seconds=0.02, recorder_type=ConditionalCreateRecorder)
        )
        assert isinstance(recorder, ConditionalCreateRecorder)
        webs = [
            stack.enter_context(
                stratcare_process(["serve", "--port", str(port)], postgres_url, tmp_path / f"web-{port}.log")
            )
            for port in ports
        ]
        workers = [
            stack.enter_context(
                stratcare_process(
                    ["worker", "--worker-id", f"worker-{n}"], postgres_url, tmp_path / f"worker-{n}.log"
                )
            )
            for n in range(WORKER_PROCESSES)
        ]
        async with httpx.AsyncClient(timeout=5.0) as http:
            await wait_until_serving(http, ports, [*webs, *workers])

        def kill() -> None:
            webs[0].send_signal(signal.SIGKILL)
            workers[0].send_signal(signal.SIGKILL)

        report = LoadReport()
        await run_load(ports, recorder.base_url, kill, report)
        outbox = await wait_for_drain(ports[1])
        for process in (*webs[1:], *workers[1:]):
            assert process.poll() is None, f"a surviving process exited ({process.args})"
        assert webs[0].wait(timeout=10) == -signal.SIGKILL
        assert workers[0].wait(timeout=10) == -signal.SIGKILL
        received = recorder.received()

    assert_every_call_answered(report, ports[0])
    rows = outbox_rows(postgres_url)
    assert_every_write_delivered_once(rows, report, received, outbox)
    assert recorder.unconditional == []


def assert_every_call_answered(report: LoadReport, killed_port: int) -> None:
    assert len(report.answered) == CALLS
    assert set(report.answered.values()) == {200}, Counter(report.answered.values())
    assert set(report.refused_by) <= {killed_port}, report.refused_by
    assert report.refused_by[killed_port] > 0, "the killed replica was never called after it died"


def assert_every_write_delivered_once(
    rows: list[OutboxRow], report: LoadReport, received: Counter[str], outbox: dict[str, Any]
) -> None:
    writes_per_call = Counter(row.hook_instance for row in rows)
    assert set(writes_per_call) == set(report.answered), "an answered call queued nothing, or a stray did"
    assert len(set(writes_per_call.values())) == 1, writes_per_call
    assert {row.state for row in rows} == {"delivered"}
    assert (outbox["delivered"], outbox["dead"]) == (len(rows), 0), outbox
    queued = [identifier for row in rows for identifier in row.identifiers]
    assert len(queued) == len(set(queued)), "one result queued in two rows"
    assert set(received) == set(queued), "a queued write never arrived, or something else did"
    resent = {identifier for identifier, copies in received.items() if copies > 1}
    reclaimed = {identifier for row in rows if row.attempts > 1 for identifier in row.identifiers}
    assert resent <= reclaimed, "a Bundle was sent twice although no worker died holding it"
