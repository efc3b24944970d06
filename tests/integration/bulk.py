"""Many queued writes at once, as a busy clinic's hook calls would leave them: STarT Back results of distinct
responses for one patient, queued through the hook ledger like a hook call does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from stratcare.engine.ports import HookCallFacts
from stratcare.instruments.instrument_result import InstrumentResult
from stratcare.instruments.results import ResponseSource
from stratcare.store import SqlLedgers
from stratcare.writeback.planner import plan_writes
from support.instrument_results import start_back_result

SERVICE = "start-back-encounter-start"
START_BACK = "http://stratcare.org/fhir/Questionnaire/start-back|1.0.0"
RESOURCES_PER_WRITE = {"Observation": 2, "RiskAssessment": 1}
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def score(response_id: str) -> InstrumentResult:
    source = ResponseSource(response_id, "1", START_BACK, NOW)
    return start_back_result(source, "1.0.0", total=6, psychosocial=4, risk_group="high")


async def queue_writes(
    ledgers: SqlLedgers, fhir_server: str, patient_id: str, count: int, per_call: int = 100
) -> None:
    """Queue ``count`` writes for ``patient_id``, ``per_call`` per recorded hook call."""
    for first in range(0, count, per_call):
        scores = [score(f"{patient_id}-{n}") for n in range(first, min(first + per_call, count))]
        hook_instance = uuid.uuid4()
        writes = plan_writes(hook_instance, patient_id, None, fhir_server, scores)
        call = HookCallFacts(
            hook_instance, SERVICE, "encounter-start", patient_id, None, None, fhir_server, NOW, "cards"
        )
        async with ledgers.hook_ledger() as ledger:
            await ledger.record(call, scores, [], writes)
