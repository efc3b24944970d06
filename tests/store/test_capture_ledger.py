"""Captured screens on SQLite and PostgreSQL: screen and write in one step; a repeat changes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Table, func, select

from stratcare.store import SqlLedgers
from stratcare.store.captures import CapturedScreen
from stratcare.store.schema import capture_screens, outbox
from stratcare.writeback.outbox import PendingWrite

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def screen(response_id: str) -> CapturedScreen:
    return CapturedScreen(
        response_id=response_id,
        questionnaire="http://stratcare.org/fhir/Questionnaire/start-back|1.0.0",
        patient_id="p-1",
        encounter_id=None,
        fhir_server="http://ehr.test/fhir",
        launch="link",
        prompted_at_point="pre-visit",
        completed_at_point="check-in",
        authored=NOW,
        risk_band="low-risk",
    )


def write(response_id: str) -> PendingWrite:
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": []}
    return PendingWrite(f"capture:{response_id}", uuid.UUID(response_id), "http://ehr.test/fhir", bundle)


async def count(ledgers: SqlLedgers, table: Table) -> int:
    async with ledgers.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


class TestCaptureLedger:
    async def test_a_screen_is_stored_and_queued_once(self, ledgers: SqlLedgers) -> None:
        response_id = str(uuid.uuid4())
        ledger = ledgers.capture_ledger()
        assert await ledger.record(screen(response_id), write(response_id), NOW) is True
        assert await ledger.record(screen(response_id), write(response_id), NOW) is False
        assert await count(ledgers, capture_screens) == 1
        assert await count(ledgers, outbox) == 1
        async with ledgers.engine.connect() as connection:
            row = (await connection.execute(select(capture_screens))).mappings().one()
        assert (row["prompted_at_point"], row["completed_at_point"]) == ("pre-visit", "check-in")
        assert row["authored"] == NOW
