"""Schema migrations build exactly ``schema.py``; a release 0.1.0 database upgrades and loses nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, MetaData, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from store import schema_release_0_1 as release_0_1
from stratcare.store import (
    SchemaNotCurrent,
    SqlLedgers,
    create_engine,
    current_revision,
    head_revision,
    upgrade_schema,
)
from stratcare.store.migrate import BASELINE, alembic_config
from stratcare.store.schema import metadata

AT = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
CALL, CARD, SUGGESTION = UUID(int=1), UUID(int=2), UUID(int=3)
EHR = "https://ehr.example.org/fhir"

SEED: dict[str, list[dict[str, Any]]] = {
    "hook_calls": [
        {
            "id": 1,
            "hook_instance": CALL,
            "service_id": "start-back-encounter-start",
            "hook": "encounter-start",
            "patient_id": "p1",
            "encounter_id": "e1",
            "user_id": "Practitioner/dr",
            "fhir_server": EHR,
            "received_at": AT,
            "outcome": "cards",
        }
    ],
    "assessments": [
        {
            "id": 1,
            "hook_call_id": 1,
            "kind": "scored",
            "instrument": "https://stratcare.example.org/Questionnaire/start-back",
            "instrument_version": "1.0.0",
            "questionnaire": "https://stratcare.example.org/Questionnaire/start-back|1.0.0",
            "response_id": "qr-1",
            "response_version": "2",
            "authored": AT,
            "total": 7,
            "psychosocial": 5,
            "risk_group": "high",
            "duration_code": None,
            "frequency_code": None,
            "chronicity": None,
            "rejection_reasons": None,
        },
        {
            "id": 2,
            "hook_call_id": 1,
            "kind": "rejected",
            "instrument": "https://stratcare.example.org/Questionnaire/nih-clbp",
            "instrument_version": None,
            "questionnaire": "https://stratcare.example.org/Questionnaire/nih-clbp",
            "response_id": "qr-2",
            "response_version": None,
            "authored": None,
            "total": None,
            "psychosocial": None,
            "risk_group": None,
            "duration_code": None,
            "frequency_code": None,
            "chronicity": None,
            "rejection_reasons": ["item 1 is not answered"],
        },
    ],
    "cards": [
        {
            "id": 1,
            "uuid": CARD,
            "hook_call_id": 1,
            "service_id": "start-back-encounter-start",
            "pathway_action": "high-risk",
            "indicator": "warning",
            "summary": "High risk of persistent disabling back pain",
            "risk_group": "high",
            "referral_suggested": True,
        }
    ],
    "card_suggestions": [{"card_uuid": CARD, "suggestion_uuid": SUGGESTION, "label": "Refer"}],
    "feedback": [
        {
            "id": 1,
            "dedupe_key": "a" * 64,
            "service_id": "start-back-encounter-start",
            "card_uuid": CARD,
            "outcome": "accepted",
            "outcome_timestamp": AT,
            "accepted_suggestions": [str(SUGGESTION)],
            "override_reason_system": None,
            "override_reason_code": None,
            "received_at": AT,
        }
    ],
    "outbox": [
        {
            "id": 1,
            "key": "qr-1:2:1.0.0:start-back",
            "hook_instance": CALL,
            "fhir_server": EHR,
            "bundle": {"resourceType": "Bundle", "type": "transaction", "entry": []},
            "state": "pending",
            "attempts": 3,
            "next_attempt_at": AT,
            "lease_until": None,
            "claimed_by": None,
            "last_error": "POST failed: ConnectError",
            "created_at": AT,
            "updated_at": AT,
            "delivered_at": None,
        },
        {
            "id": 2,
            "key": "qr-0:-:1.0.0:start-back",
            "hook_instance": CALL,
            "fhir_server": None,
            "bundle": {"resourceType": "Bundle", "type": "transaction"},
            "state": "delivered",
            "attempts": 1,
            "next_attempt_at": AT,
            "lease_until": None,
            "claimed_by": "host-1",
            "last_error": None,
            "created_at": AT,
            "updated_at": AT,
            "delivered_at": AT,
        },
    ],
    "jwt_replay": [{"issuer": "https://ehr.example.org", "jti": "j1", "expires_at": AT}],
}


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def create_release_0_1_database(engine: AsyncEngine) -> None:
    """What release 0.1.0 left behind: tables from ``create_all``, no ``alembic_version``, and data."""
    async with engine.begin() as connection:
        await connection.run_sync(release_0_1.metadata.create_all)
        for name, rows in SEED.items():
            await connection.execute(insert(release_0_1.metadata.tables[name]), rows)


def schema_differences(connection: Connection, expected: MetaData = metadata) -> list[Any]:
    """What autogenerate would write to turn the database into ``expected``: nothing, when they agree."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, expected))


def migrate_from_empty(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


class TestMigrations:
    async def test_the_migrations_build_exactly_the_schema(self, engine: AsyncEngine) -> None:
        async with engine.begin() as connection:
            await connection.run_sync(migrate_from_empty)
        async with engine.connect() as connection:
            assert await connection.run_sync(schema_differences) == []
        assert await current_revision(engine) == head_revision()

    async def test_the_baseline_is_release_0_1s_schema(self, engine: AsyncEngine) -> None:
        async with engine.begin() as connection:
            await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), BASELINE))
        async with engine.connect() as connection:
            assert await connection.run_sync(schema_differences, release_0_1.metadata) == []

    async def test_an_empty_database_gets_the_schema_at_the_newest_revision(
        self, engine: AsyncEngine
    ) -> None:
        await upgrade_schema(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(schema_differences) == []
        assert await current_revision(engine) == head_revision()


class TestUpgradingRelease01:
    async def test_nothing_is_lost(self, engine: AsyncEngine) -> None:
        await create_release_0_1_database(engine)

        await upgrade_schema(engine)

        assert await current_revision(engine) == head_revision()
        async with engine.connect() as connection:
            for name, rows in SEED.items():
                table = metadata.tables[name]
                stored = (await connection.execute(select(table).order_by(*table.primary_key))).mappings()
                assert [dict(row) for row in stored] == rows, name
            assert await connection.run_sync(schema_differences) == []

    async def test_writes_are_then_unique_per_server(self, engine: AsyncEngine) -> None:
        await create_release_0_1_database(engine)
        await upgrade_schema(engine)
        row = SEED["outbox"][0] | {"id": 3, "fhir_server": "https://other.example.org/fhir"}
        async with engine.begin() as connection:
            await connection.execute(insert(metadata.tables["outbox"]), row)
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(insert(metadata.tables["outbox"]), row | {"id": 4})

    async def test_without_upgrading_the_store_refuses_to_open(self, database_url: str) -> None:
        engine = create_engine(database_url)
        try:
            await create_release_0_1_database(engine)
        finally:
            await engine.dispose()
        with pytest.raises(SchemaNotCurrent, match="run `stratcare db upgrade`"):
            await SqlLedgers.open(database_url, upgrade=False)
        ledgers = await SqlLedgers.open(database_url)
        await ledgers.close()
        ledgers = await SqlLedgers.open(database_url, upgrade=False)
        await ledgers.close()
