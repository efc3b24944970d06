"""Hook latency does not depend on the FHIR server's: the same calls, with write-back to a server that
answers at once and to one that takes seconds per transaction.

    .venv/bin/python bench/hook_latency.py --calls 200 --slow-ms 2000

Each call is the high-risk sample patient with a fresh QuestionnaireResponse id, so every call scores a
new response and queues its Observations and RiskAssessment in the outbox; the in-process worker
delivers them to the endpoint while the next calls run. Prints the median and 95th percentile hook
latency for both endpoints and their ratio (near 1.0 when write-back is off the hook's path).
Not a test: nothing is asserted about time.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from integration.recording_server import recording_server
from stratcare.api.app import create_app
from stratcare.demo.scenarios import load_scenarios
from stratcare.settings import Settings

SERVICE = "start-back-encounter-start"


def fresh_call(template: dict[str, Any], fhir_server: str) -> dict[str, Any]:
    body = copy.deepcopy(template)
    body["hookInstance"] = str(uuid.uuid4())
    body["fhirServer"] = fhir_server
    for entry in body["prefetch"]["startBackResponses"]["entry"]:
        entry["resource"]["id"] = f"bench-{uuid.uuid4().hex[:12]}"
    return body


async def latencies(calls: int, delay_seconds: float) -> list[float]:
    template = {scenario.name: scenario for scenario in load_scenarios()}["high-risk"].request
    with recording_server(delay_seconds=delay_seconds) as server, tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}",
            auth="off",
            writeback={"idle_poll_seconds": 0.05, "allowlist": [server.base_url]},
        )
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        timings: list[float] = []
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
        ):
            for _ in range(calls):
                body = fresh_call(template, server.base_url)
                started = time.perf_counter()
                response = await client.post(f"/cds-services/{SERVICE}", json=body)
                timings.append(time.perf_counter() - started)
                response.raise_for_status()
        return timings


def summary(timings: list[float]) -> tuple[float, float]:
    ordered = sorted(timings)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def report(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--slow-ms", type=float, default=2000.0)
    arguments = parser.parse_args()
    endpoints = [
        ("fast FHIR server", 0.0),
        (f"{arguments.slow_ms:g} ms FHIR server", arguments.slow_ms / 1000),
    ]
    medians = []
    for label, delay in endpoints:
        median, p95 = summary(await latencies(arguments.calls, delay))
        medians.append(median)
        report(
            f"{label:>24}: median {median * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms"
            f"   ({arguments.calls} calls)"
        )
    report(f"hook latency, slow / fast FHIR server (median): {medians[1] / medians[0]:.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
