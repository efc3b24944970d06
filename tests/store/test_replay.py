"""The replay guard accepts a token id once per issuer until it expires, across processes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from store.factories import NOW
from stratcare.store import SqlLedgers
from stratcare.store.schema import jwt_replay

ISSUER = "https://ehr.example.org"
EXPIRES = NOW + timedelta(minutes=5)


class TestFirstUse:
    async def test_a_token_id_is_accepted_once(self, ledgers: SqlLedgers) -> None:
        guard = ledgers.replay_guard()
        assert await guard.first_use(ISSUER, "jti-1", EXPIRES, NOW) is True
        assert await guard.first_use(ISSUER, "jti-1", EXPIRES, NOW + timedelta(seconds=1)) is False

    async def test_issuers_and_token_ids_are_told_apart(self, ledgers: SqlLedgers) -> None:
        guard = ledgers.replay_guard()
        assert await guard.first_use(ISSUER, "jti-1", EXPIRES, NOW) is True
        assert await guard.first_use(ISSUER, "jti-2", EXPIRES, NOW) is True
        assert await guard.first_use("https://other.example.org", "jti-1", EXPIRES, NOW) is True

    async def test_an_expired_use_no_longer_blocks(self, ledgers: SqlLedgers) -> None:
        guard = ledgers.replay_guard()
        assert await guard.first_use(ISSUER, "jti-1", EXPIRES, NOW) is True
        assert await guard.first_use(ISSUER, "jti-1", EXPIRES + timedelta(minutes=5), EXPIRES) is True
        assert await guard.first_use(ISSUER, "jti-1", EXPIRES, EXPIRES + timedelta(seconds=1)) is False

    async def test_expired_rows_are_purged_now_and_then(self, ledgers: SqlLedgers) -> None:
        hourly = SqlLedgers(ledgers.engine, purge_interval=timedelta(hours=1))
        guard = hourly.replay_guard()
        try:
            for n in range(3):
                await guard.first_use(ISSUER, f"old-{n}", EXPIRES, NOW)
            far = NOW + timedelta(days=1)
            await guard.first_use(ISSUER, "before-the-interval", far, EXPIRES + timedelta(seconds=1))
            assert await _rows(ledgers) == 4
            await guard.first_use(ISSUER, "after-the-interval", far, NOW + timedelta(hours=1))
            assert await _rows(ledgers) == 2
        finally:
            await hourly.close()

    @pytest.mark.parametrize(("issuer", "jti"), [("", "jti-1"), (ISSUER, "")])
    async def test_an_empty_issuer_or_id_is_refused(self, ledgers: SqlLedgers, issuer: str, jti: str) -> None:
        with pytest.raises(ValueError, match="must not be empty"):
            await ledgers.replay_guard().first_use(issuer, jti, EXPIRES, NOW)

    async def test_naive_datetimes_are_refused(self, ledgers: SqlLedgers) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            await ledgers.replay_guard().first_use(ISSUER, "jti-1", EXPIRES.replace(tzinfo=None), NOW)


async def _rows(ledgers: SqlLedgers) -> int:
    async with ledgers.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(jwt_replay))).scalar_one())


@pytest.mark.postgres
class TestAcrossProcesses:
    async def test_two_stores_on_one_database_accept_a_token_once(self, postgres_url: str) -> None:
        first, second = await SqlLedgers.open(postgres_url), await SqlLedgers.open(postgres_url)
        try:
            assert await first.replay_guard().first_use(ISSUER, "jti-1", EXPIRES, NOW) is True
            assert await second.replay_guard().first_use(ISSUER, "jti-1", EXPIRES, NOW) is False
            attempts = [
                store.replay_guard().first_use(ISSUER, "jti-race", EXPIRES, NOW)
                for store in (first, second) * 5
            ]
            assert sorted(await asyncio.gather(*attempts)) == [False] * 9 + [True]
        finally:
            await first.close()
            await second.close()
