"""CPU time and wall time per call of the store's per-call writes: a token check alone, and a hook call
recorded with its token use (one group-committed unit each, ``store/group_commit.py``).

Run: ``.venv/bin/python -m bench.micro_store [database-url | postgres]`` (default: a SQLite file in a
temporary folder; ``postgres``: a fresh schema on the local PostgreSQL, ``bench.stores``). Prints the process
CPU time per call (the server's cost) and wall time per call, sequential and 32 at once.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from functools import cache
from uuid import uuid4

from bench.stores import fresh_postgres_schema
from stratcare.auth.replay import TokenUse
from stratcare.cdshooks.models import Card, Source
from stratcare.content import ContentRepository
from stratcare.engine.ports import HookCallFacts, IssuedCard
from stratcare.instruments.definition import InstrumentDefinition
from stratcare.instruments.instrument_result import InstrumentResult
from stratcare.instruments.registry import InstrumentRegistry
from stratcare.instruments.results import ResponseSource
from stratcare.store import SqlLedgers

CALLS = 300


def _facts(now: datetime) -> HookCallFacts:
    return HookCallFacts(
        hook_instance=uuid4(),
        service_id="start-back-encounter-start",
        hook="encounter-start",
        patient_id="pat-1",
        encounter_id="enc-1",
        user_id="Practitioner/doc-1",
        fhir_server="https://ehr.example.org/fhir",
        received_at=now,
        outcome="cards",
    )


@cache
def _start_back() -> InstrumentDefinition:
    instrument = InstrumentRegistry.from_content(ContentRepository.load()).by_key("startBack")
    assert instrument is not None
    return instrument.definition


def _score(now: datetime) -> InstrumentResult:
    """A high-risk STarT Back result as the shipped content defines it (total 6, psychosocial 4)."""
    definition = _start_back()
    source = ResponseSource(
        response_id=str(uuid4()), version_id="1", questionnaire=f"{definition.url}|1.0.0", authored=now
    )
    return InstrumentResult(
        definition=definition,
        source=source,
        answers={},
        scores={"total": 6, "psychosocial": 4},
        band=definition.band("high-risk"),
        flags=(),
    )


def _card() -> IssuedCard:
    card = Card(summary="High risk", indicator="warning", source=Source(label="stratcare"), uuid=uuid4())
    return IssuedCard(card=card, pathway_action="high", risk_group="high", referral_suggested=True)


async def _measure(label: str, work: Callable[[], Awaitable[object]]) -> None:
    for concurrency in (1, 32):
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(CALLS // concurrency):
            await asyncio.gather(*(work() for _ in range(concurrency)))
        calls = (CALLS // concurrency) * concurrency
        cpu_ms = (time.process_time() - cpu) / calls * 1000
        wall_ms = (time.perf_counter() - wall) / calls * 1000
        _say(f"  {label}, {concurrency} at once: {cpu_ms:.3f} ms CPU, {wall_ms:.3f} ms wall per call")


async def main(url: str) -> None:
    ledgers = await SqlLedgers.open(url)
    guard = ledgers.replay_guard()
    now = datetime.now(UTC)
    _say(f"{ledgers.engine.dialect.name}:")

    async def replay() -> object:
        return await guard.first_use("https://ehr.example.org", str(uuid4()), now + timedelta(minutes=5), now)

    recorder = ledgers.hook_recorder()

    async def hook_call() -> None:
        token = TokenUse("https://ehr.example.org", str(uuid4()), now + timedelta(minutes=5), now)
        await recorder.record(_facts(now), [_score(now)], [_card()], token=token)

    await replay()
    await hook_call()
    await _measure("replay guard first_use", replay)
    await _measure("hook call recorded with its token use", hook_call)
    _say(f"  ({ledgers.writes.batches} batches in all)")
    await ledgers.close()


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite+aiosqlite:///{folder}/bench.db"
        if url == "postgres":
            url = stack.enter_context(fresh_postgres_schema())
        asyncio.run(main(url))
