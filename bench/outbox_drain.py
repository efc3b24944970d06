"""How fast the outbox drains with one worker and with two, on PostgreSQL.

    .venv/bin/python bench/outbox_drain.py --writes 300                  # the local FHIR test server
    .venv/bin/python bench/outbox_drain.py --writes 2000 --recorder-delay-ms 20
    .venv/bin/python bench/outbox_drain.py --fhir-base-url http://localhost:8080/fhir   # e.g. HAPI

Each run queues ``--writes`` STarT Back results (one transaction Bundle of three resources each) in a fresh
PostgreSQL schema, drains them with N workers (each with its own engine and HTTP client, as separate
processes would have) and prints writes per second. ``--recorder-delay-ms`` sends them instead to an
endpoint that only records Bundles and answers after that delay, like an EHR across a network: it
measures the outbox, not the FHIR server. Not a test: nothing is asserted about time.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from integration.bulk import queue_writes
from integration.recording_server import recording_server
from stratcare.store import SqlLedgers
from stratcare.writeback.delivery import Deliverer
from stratcare.writeback.operations import drain
from stratcare.writeback.settings import WritebackSettings
from stratcare.writeback.wiring import build_worker
from support.fhir_server import running_fhir_server

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def fresh_schema(postgres_url: str) -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin_url = make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
            yield url.render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


async def drained_in(database_url: str, fhir_base_url: str, writes: int, workers: int) -> float:
    """Seconds N workers take to deliver ``writes`` freshly queued writes."""
    settings = WritebackSettings()
    ledgers = [await SqlLedgers.open(database_url) for _ in range(workers)]
    clients = [httpx.AsyncClient(timeout=60.0) for _ in range(workers)]
    try:
        await queue_writes(ledgers[0], fhir_base_url, f"bench-{uuid.uuid4().hex[:12]}", writes)
        pool = [
            build_worker(
                settings,
                store.outbox(),
                Deliverer(http, ehr_base_url=None),
                lambda: datetime.now(UTC),
                f"bench-{index}",
            )
            for index, (store, http) in enumerate(zip(ledgers, clients, strict=True))
        ]
        started = time.perf_counter()
        await asyncio.gather(*(drain(worker) for worker in pool))
        elapsed = time.perf_counter() - started
        status = await ledgers[0].outbox().status(datetime.now(UTC))
        if status.delivered != writes or status.dead:
            raise SystemExit(f"not all delivered: {status}")
        return elapsed
    finally:
        for http in clients:
            await http.aclose()
        for store in ledgers:
            await store.close()


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--database-url", default=POSTGRES_URL)
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--fhir-base-url", help="An open FHIR server to write to (default: start the local one)."
    )
    target.add_argument("--recorder-delay-ms", type=float, help="Write to a recording endpoint instead.")
    options = parser.parse_args()

    with ExitStack() as stack:
        if options.recorder_delay_ms is not None:
            base_url = stack.enter_context(recording_server(options.recorder_delay_ms / 1000)).base_url
            target_name = f"recording endpoint answering after {options.recorder_delay_ms:g} ms"
        elif options.fhir_base_url:
            base_url, target_name = options.fhir_base_url, options.fhir_base_url
        else:
            base_url = stack.enter_context(running_fhir_server()).base_url
            target_name = "local FHIR test server"
        say(f"{options.writes} writes to the {target_name}")
        rates = {}
        for workers in (1, 2):
            with fresh_schema(options.database_url) as url:
                seconds = asyncio.run(drained_in(url, base_url, options.writes, workers))
            rates[workers] = options.writes / seconds
            say(f"{workers} worker(s): {seconds:7.2f} s  {rates[workers]:8.1f} writes/s")
        say(f"2 workers / 1 worker: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
