"""Engine URLs, schema creation, SQLite settings and timezone-aware datetimes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select, text

from stratcare.store import SqlLedgers, async_url, create_engine, upgrade_schema
from stratcare.store.schema import jwt_replay


class TestAsyncUrl:
    @pytest.mark.parametrize(
        ("given", "expected"),
        [
            ("sqlite:///./stratcare.db", "sqlite+aiosqlite:///./stratcare.db"),
            ("sqlite+aiosqlite:///./stratcare.db", "sqlite+aiosqlite:///./stratcare.db"),
            ("postgresql://app@db:5432/stratcare", "postgresql+psycopg://app@db:5432/stratcare"),
            ("postgres://app@db/stratcare", "postgresql+psycopg://app@db/stratcare"),
            ("postgresql+psycopg://app@db/stratcare", "postgresql+psycopg://app@db/stratcare"),
        ],
    )
    def test_shorthand_urls_get_the_async_driver(self, given: str, expected: str) -> None:
        assert async_url(given).render_as_string() == expected

    @pytest.mark.parametrize(
        "given", ["mysql://app@db/stratcare", "postgresql+psycopg2://app@db/stratcare", "not a url"]
    )
    def test_other_urls_are_refused(self, given: str) -> None:
        with pytest.raises(ValueError, match="database"):
            async_url(given)

    @pytest.mark.parametrize(
        "given",
        [
            "sqlite://",
            "sqlite+aiosqlite:///:memory:",
            "sqlite+aiosqlite:///file:db?mode=memory&cache=shared&uri=true",
        ],
    )
    def test_in_memory_sqlite_is_refused_with_the_reason(self, given: str) -> None:
        """One in-memory database cannot be shared by the web requests and the outbox worker."""
        with pytest.raises(ValueError, match="in-memory SQLite is not supported"):
            async_url(given)


class TestSchema:
    async def test_upgrading_again_changes_nothing(self, ledgers: SqlLedgers) -> None:
        await _insert_replay_row(ledgers, datetime(2025, 1, 1, tzinfo=UTC))
        await upgrade_schema(ledgers.engine)
        async with ledgers.engine.connect() as connection:
            assert len((await connection.execute(select(jwt_replay))).all()) == 1

    @pytest.mark.postgres
    async def test_processes_starting_at_once_do_not_collide(self, postgres_url: str) -> None:
        engines = [create_engine(postgres_url) for _ in range(4)]
        try:
            await asyncio.gather(*(upgrade_schema(engine) for engine in engines))
        finally:
            for engine in engines:
                await engine.dispose()


class TestDatetimes:
    async def test_datetimes_read_back_aware_in_utc(self, ledgers: SqlLedgers) -> None:
        written = datetime(2025, 6, 1, 14, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
        await _insert_replay_row(ledgers, written)
        async with ledgers.engine.connect() as connection:
            read = (await connection.execute(select(jwt_replay.c.expires_at))).scalar_one()
        assert read == written
        assert read.tzinfo == UTC


async def _insert_replay_row(ledgers: SqlLedgers, expires_at: datetime) -> None:
    async with ledgers.engine.begin() as connection:
        await connection.execute(insert(jwt_replay).values(issuer="i", jti="j", expires_at=expires_at))


class TestSqliteSettings:
    async def test_wal_foreign_keys_and_busy_timeout_are_on(self, sqlite_url: str) -> None:
        ledgers = await SqlLedgers.open(sqlite_url)
        try:
            async with ledgers.engine.connect() as connection:
                assert (await connection.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
                assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
                assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one() > 0
        finally:
            await ledgers.close()
