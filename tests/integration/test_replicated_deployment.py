"""The deployment of deploy/ in miniature: three `stratcare serve` and two `stratcare worker` processes on one
PostgreSQL, under load, with one web process and one worker killed by SIGKILL mid-run.

Every hook call is answered 200, or refused by the killed process (a connection refused or closed, which an
EHR's load balancer retries on another replica: so does this client, with the same body). Every queued write
reaches the FHIR endpoint. The worker is killed while the endpoint holds the answers to Bundles it has
already taken, so at least one Bundle of the killed worker arrived but was never acknowledged: once its
lease runs out the surviving worker sends it again. Only such Bundles arrive twice, and each of their entries
is a conditional create on its identifier (``ifNoneExist``), so a FHIR server keeps one copy: counted by
identifier, every write is delivered exactly once.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
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
DELIVERIES_AT_ONCE = 5
"""Per worker; so when more Bundles than this wait for their answer, each worker has one in flight."""
HOLD_AFTER_BUNDLES = 40
CALL_TIMEOUT_SECONDS = 30.0
"""A call that takes longer is a hang, and fails the test."""
LOAD_DEADLINE_SECONDS = 240.0
START_DEADLINE_SECONDS = 180.0
DRAIN_DEADLINE_SECONDS = 120.0
LEASE_SECONDS = 5
REFUSALS = (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
"""How a client sees a process that is gone: nothing listens, or the connection closed without an answer."""
PROCESS_SETTINGS = {
    "STRATCARE_AUTH": "off",
    "STRATCARE_LOG_LEVEL": "WARNING",
    "STRATCARE_WRITEBACK_RUN_IN_PROCESS": "false",
    "STRATCARE_WRITEBACK_BATCH_SIZE": "5",
    "STRATCARE_WRITEBACK_CONCURRENCY": str(DELIVERIES_AT_ONCE),
    "STRATCARE_WRITEBACK_LEASE_SECONDS": str(LEASE_SECONDS),
    "STRATCARE_WRITEBACK_IDLE_POLL_SECONDS": "0.1",
    "STRATCARE_WRITEBACK_BACKOFF_BASE_SECONDS": "0.05",
    "STRATCARE_WRITEBACK_BACKOFF_MAX_SECONDS": "0.2",
    "STRATCARE_DATABASE_UPGRADE_ON_START": "false",
}


class HoldingRecorder(TransactionRecorder):
    """Records each Bundle; from the ``HOLD_AFTER_BUNDLES``-th on, holds the answers until ``released``, and
    sets ``holding`` once more are held than one worker sends at once. Also notes entries that are not a
    create a FHIR server would skip when their identifier exists."""

    def __init__(self, delay_seconds: float) -> None:
        super().__init__(delay_seconds)
        self.unconditional: list[str] = []
        self.holding = threading.Event()
        self.released = threading.Event()
        self._count_lock = threading.Lock()
        self._bundles = 0
        self._held = 0

    def record(self, bundle: dict[str, Any]) -> list[dict[str, Any]]:
        self._check_conditional(bundle)
        entries = super().record(bundle)
        with self._count_lock:
            self._bundles += 1
            hold = self._bundles > HOLD_AFTER_BUNDLES and not self.released.is_set()
            self._held += hold
            if self._held > DELIVERIES_AT_ONCE:
                self.holding.set()
        if hold:
            self.released.wait(timeout=LOAD_DEADLINE_SECONDS)
        return entries

    def _check_conditional(self, bundle: dict[str, Any]) -> None:
        for entry in bundle.get("entry") or []:
            (identifier,) = entry["resource"]["identifier"]
            wanted = f"identifier={IDENTIFIER_SYSTEM}|{identifier['value']}"
            if identifier["system"] != IDENTIFIER_SYSTEM or entry["request"].get("ifNoneExist") != wanted:
                self.unconditional.append(str(identifier["value"]))


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
    arguments: list[str], database_url: str, fhir_server: str, logs: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A stratcare process writing back to ``fhir_server``, its output in ``logs`` (a pipe nobody reads
    would stall it)."""
    environment = {
        **os.environ,
        **PROCESS_SETTINGS,
        "STRATCARE_DATABASE_URL": database_url,
        "STRATCARE_WRITEBACK_ALLOWLIST": json.dumps([fhir_server]),
    }
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


async def run_load(ports: list[int], fhir_server: str, killed: asyncio.Event, report: LoadReport) -> None:
    """``CALLS`` hook calls, ``IN_FLIGHT`` at a time, spread over ``ports``; the second half only once
    ``killed`` is set, so calls meet the dead replica."""
    slots = asyncio.Semaphore(IN_FLIGHT)
    limits = httpx.Limits(max_connections=IN_FLIGHT * len(ports))
    async with httpx.AsyncClient(timeout=CALL_TIMEOUT_SECONDS, limits=limits) as http:

        async def one(index: int) -> None:
            if index >= CALLS // 2:
                await killed.wait()
            async with slots:
                await call_until_answered(http, hook_call(fhir_server), ports, index, report)

        await asyncio.gather(*(one(index) for index in range(CALLS)))


async def kill_while_deliveries_are_held(
    recorder: HoldingRecorder, victims: list[subprocess.Popen[bytes]], killed: asyncio.Event
) -> None:
    """SIGKILL ``victims`` while each worker waits for the answer to a Bundle the endpoint has recorded."""
    try:
        if not await asyncio.to_thread(recorder.holding.wait, LOAD_DEADLINE_SECONDS):
            pytest.fail(f"fewer than {DELIVERIES_AT_ONCE + 1} deliveries were ever held at once")
        for process in victims:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        killed.set()
    finally:
        recorder.released.set()


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
        recorder = stack.enter_context(recording_server(recorder_type=HoldingRecorder))
        assert isinstance(recorder, HoldingRecorder)
        stack.callback(recorder.released.set)
        target = recorder.base_url
        with stratcare_process(["db", "upgrade"], postgres_url, target, tmp_path / "upgrade.log") as upgrade:
            assert upgrade.wait(timeout=START_DEADLINE_SECONDS) == 0, (tmp_path / "upgrade.log").read_text()
        webs = [
            stack.enter_context(
                stratcare_process(
                    ["serve", "--port", str(port)], postgres_url, target, tmp_path / f"web-{port}.log"
                )
            )
            for port in ports
        ]
        workers = [
            stack.enter_context(
                stratcare_process(
                    ["worker", "--worker-id", f"worker-{n}"],
                    postgres_url,
                    target,
                    tmp_path / f"worker-{n}.log",
                )
            )
            for n in range(WORKER_PROCESSES)
        ]
        async with httpx.AsyncClient(timeout=5.0) as http:
            await wait_until_serving(http, ports, [*webs, *workers])

        report, killed = LoadReport(), asyncio.Event()
        async with asyncio.timeout(LOAD_DEADLINE_SECONDS):
            await asyncio.gather(
                run_load(ports, target, killed, report),
                kill_while_deliveries_are_held(recorder, [webs[0], workers[0]], killed),
            )
        outbox = await wait_for_drain(ports[1])
        for process in (*webs[1:], *workers[1:]):
            assert process.poll() is None, f"a surviving process exited ({process.args!r})"
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
    assert resent, "no Bundle of the killed worker was sent again: the test did not kill mid-delivery"
    assert resent <= reclaimed, "a Bundle was sent twice although no worker died holding it"
