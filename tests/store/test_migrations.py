"""Schema migrations build exactly ``schema.py``; a release 0.1.0 database upgrades and loses nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, MetaData, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from store import schema_release_0_1 as release_0_1
from store.release_0_1_data import SEED, create_release_0_1_database, upgraded
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


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


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


ADDED_SINCE_0_1: dict[str, dict[str, object]] = {
    "cards": {"workflow_point": None},
    "hook_calls": {"clinic": None, "workflow_point": None},
}
"""Nullable columns later revisions add: rows made by release 0.1.0 have them empty."""


class TestUpgradingRelease01:
    async def test_nothing_is_lost(self, engine: AsyncEngine) -> None:
        await create_release_0_1_database(engine)

        await upgrade_schema(engine)

        assert await current_revision(engine) == head_revision()
        async with engine.connect() as connection:
            for name in SEED:
                table = metadata.tables[name]
                stored = (await connection.execute(select(table).order_by(*table.primary_key))).mappings()
                added = ADDED_SINCE_0_1.get(name, {})
                assert [dict(row) for row in stored] == [row | added for row in upgraded(name)], name
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
