"""The SQL outbox: claims with leases, settling only by the holder, retries, dead rows and status."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from store.factories import NOW, call_facts, pending_write
from stratcare.store import SqlLedgers, SqlOutbox, create_engine
from stratcare.writeback.outbox import ClaimedWrite, OutboxStatus

LEASE = 60.0


def later(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


async def _queue(ledgers: SqlLedgers, *keys: str, at: datetime = NOW) -> None:
    async with ledgers.hook_ledger() as ledger:
        await ledger.record(call_facts(received_at=at), [], [], [pending_write(key) for key in keys])


def _keys(claimed: list[ClaimedWrite]) -> list[str]:
    return [write.key for write in claimed]


class TestClaim:
    async def test_due_rows_are_claimed_oldest_first_up_to_the_limit(self, ledgers: SqlLedgers) -> None:
        await _queue(ledgers, "a", "b", "c")
        outbox = ledgers.outbox()
        first = await outbox.claim("w1", 2, NOW, LEASE)
        assert _keys(first) == ["a", "b"]
        assert [write.attempts for write in first] == [0, 0]
        assert first[0].bundle == {"resourceType": "Bundle", "type": "transaction", "id": "a"}
        assert _keys(await outbox.claim("w2", 10, NOW, LEASE)) == ["c"]
        assert await outbox.claim("w3", 10, NOW, LEASE) == []

    async def test_a_row_is_not_claimed_before_it_is_due(self, ledgers: SqlLedgers) -> None:
        await _queue(ledgers, "a", at=later(5))
        assert await ledgers.outbox().claim("w1", 10, NOW, LEASE) == []
        assert _keys(await ledgers.outbox().claim("w1", 10, later(5), LEASE)) == ["a"]

    async def test_an_expired_lease_lets_another_worker_claim(self, ledgers: SqlLedgers) -> None:
        await _queue(ledgers, "a")
        outbox = ledgers.outbox()
        (claimed,) = await outbox.claim("w1", 10, NOW, LEASE)
        assert await outbox.claim("w2", 10, later(LEASE - 1), LEASE) == []
        (again,) = await outbox.claim("w2", 10, later(LEASE), LEASE)
        assert (again.id, again.attempts) == (claimed.id, 1)

    async def test_a_late_worker_cannot_settle_a_row_claimed_since(self, ledgers: SqlLedgers) -> None:
        await _queue(ledgers, "a")
        outbox = ledgers.outbox()
        (claimed,) = await outbox.claim("w1", 10, NOW, LEASE)
        await outbox.claim("w2", 10, later(LEASE), LEASE)
        await outbox.mark_delivered(claimed.id, "w1", later(LEASE + 1))
        await outbox.mark_failed(claimed.id, "w1", "late", None, later(LEASE + 1))
        assert await outbox.status(later(LEASE + 1)) == _status(in_flight=1, age=LEASE + 1)
        await outbox.mark_delivered(claimed.id, "w2", later(LEASE + 2))
        assert await outbox.status(later(LEASE + 2)) == _status(delivered=1)

    @pytest.mark.parametrize(("limit", "lease"), [(0, LEASE), (1, 0.0)])
    async def test_a_nonsense_claim_is_refused(self, ledgers: SqlLedgers, limit: int, lease: float) -> None:
        with pytest.raises(ValueError, match="limit"):
            await ledgers.outbox().claim("w1", limit, NOW, lease)

    async def test_a_naive_now_is_refused(self, ledgers: SqlLedgers) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            await ledgers.outbox().claim("w1", 1, NOW.replace(tzinfo=None), LEASE)


class TestFailures:
    async def test_a_failed_row_is_retried_when_due(self, ledgers: SqlLedgers) -> None:
        await _queue(ledgers, "a")
        outbox = ledgers.outbox()
        (claimed,) = await outbox.claim("w1", 10, NOW, LEASE)
        await outbox.mark_failed(claimed.id, "w1", "503 from EHR", later(30), later(1))
        assert await outbox.status(later(1)) == _status(pending=1, age=1)
        assert await outbox.claim("w1", 10, later(29), LEASE) == []
        (retried,) = await outbox.claim("w2", 10, later(30), LEASE)
        assert (retried.id, retried.attempts) == (claimed.id, 1)

    async def test_a_row_given_up_is_dead_until_requeued(self, ledgers: SqlLedgers) -> None:
        await _queue(ledgers, "a", "b")
        outbox = ledgers.outbox()
        first, second = await outbox.claim("w1", 10, NOW, LEASE)
        await outbox.mark_failed(first.id, "w1", "422 invalid Bundle", None, later(1))
        await outbox.mark_failed(second.id, "w1", "400 unknown patient", None, later(2))
        assert await outbox.status(later(3)) == _status(dead=2, error="400 unknown patient")
        assert await outbox.claim("w1", 10, later(3600), LEASE) == []
        assert await outbox.requeue_dead(later(4)) == 2
        assert await outbox.requeue_dead(later(4)) == 0
        requeued = await outbox.claim("w1", 10, later(4), LEASE)
        assert [(write.id, write.attempts) for write in requeued] == [(first.id, 0), (second.id, 0)]

    async def test_a_long_error_is_cut(self, ledgers: SqlLedgers) -> None:
        await _queue(ledgers, "a")
        outbox = ledgers.outbox()
        (claimed,) = await outbox.claim("w1", 10, NOW, LEASE)
        await outbox.mark_failed(claimed.id, "w1", "x" * 10_000, None, NOW)
        error = (await outbox.status(NOW)).last_dead_error
        assert error is not None
        assert 0 < len(error) < 10_000


class TestRetention:
    async def test_only_delivered_rows_past_the_cut_off_are_purged(self, ledgers: SqlLedgers) -> None:
        outbox = ledgers.outbox()
        await _queue(ledgers, "old", "recent", "waiting", "failed")
        old, recent, _waiting, failed = await outbox.claim("w1", 4, NOW, LEASE)
        await outbox.mark_delivered(old.id, "w1", later(1))
        await outbox.mark_delivered(recent.id, "w1", later(100))
        await outbox.mark_failed(failed.id, "w1", "gave up", None, later(1))

        assert await outbox.purge_delivered(later(50)) == 1
        assert await outbox.purge_delivered(later(50)) == 0
        status = await outbox.status(later(200))
        assert (status.delivered, status.in_flight, status.dead) == (1, 1, 1)

    async def test_a_purged_key_can_be_queued_again(self, ledgers: SqlLedgers) -> None:
        """After a purge the same response may be queued again; ifNoneExist keeps the server at one copy."""
        outbox = ledgers.outbox()
        await _queue(ledgers, "k1")
        (write,) = await outbox.claim("w1", 1, NOW, LEASE)
        await outbox.mark_delivered(write.id, "w1", later(1))
        assert await outbox.purge_delivered(later(2)) == 1
        await _queue(ledgers, "k1", at=later(3))
        assert _keys(await outbox.claim("w1", 1, later(3), LEASE)) == ["k1"]


class TestStatus:
    async def test_an_empty_outbox(self, ledgers: SqlLedgers) -> None:
        assert await ledgers.outbox().status(NOW) == _status()

    async def test_counts_per_state_and_age_of_the_oldest_undelivered(self, ledgers: SqlLedgers) -> None:
        await _queue(ledgers, "delivered", "dead", "in-flight", at=NOW)
        await _queue(ledgers, "pending", at=later(10))
        outbox = ledgers.outbox()
        delivered, dead, in_flight = await outbox.claim("w1", 3, NOW, LEASE)
        await outbox.mark_delivered(delivered.id, "w1", later(1))
        await outbox.mark_failed(dead.id, "w1", "gone", None, later(1))
        status = await outbox.status(later(20))
        assert status == _status(pending=1, in_flight=1, delivered=1, dead=1, age=20, error="gone")
        await outbox.mark_delivered(in_flight.id, "w1", later(21))
        assert (await outbox.status(later(30))).oldest_pending_age_seconds == 20


def _status(
    *,
    pending: int = 0,
    in_flight: int = 0,
    delivered: int = 0,
    dead: int = 0,
    age: float | None = None,
    error: str | None = None,
) -> OutboxStatus:
    return OutboxStatus(
        pending=pending,
        in_flight=in_flight,
        delivered=delivered,
        dead=dead,
        oldest_pending_age_seconds=age,
        last_dead_error=error,
    )


class TestConcurrentClaims:
    async def test_four_workers_claim_every_row_exactly_once(self, database_url: str) -> None:
        ledgers = await SqlLedgers.open(database_url)
        engines = [create_engine(database_url) for _ in range(4)]
        try:
            await _queue(ledgers, *(f"write-{n}" for n in range(500)))

            async def drain(worker: int) -> list[int]:
                outbox = SqlOutbox(engines[worker])
                taken: list[int] = []
                while batch := await outbox.claim(f"w{worker}", 7, NOW, 3600):
                    taken.extend(write.id for write in batch)
                return taken

            per_worker = await asyncio.gather(*(drain(worker) for worker in range(4)))
            claimed = [write_id for taken in per_worker for write_id in taken]
            assert len(claimed) == 500
            assert len(set(claimed)) == 500
            assert (await ledgers.outbox().status(NOW)).in_flight == 500
        finally:
            for engine in engines:
                await engine.dispose()
            await ledgers.close()
