"""The outbox worker against an in-memory store: delivery, backoff, giving up, and concurrent workers."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from tenacity import wait_fixed

from stratcare.errors import EhrRejectedError, EhrTechnicalError
from stratcare.writeback.outbox import ClaimedWrite, OutboxState, PendingWrite
from stratcare.writeback.worker import OutboxWorker, backoff, delay_after, running_in_background

from .fake_outbox import InMemoryOutbox

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class ScriptedDeliverer:
    """Fails each attempt with the next scripted error (then succeeds), recording what it delivered."""

    def __init__(self, *outcomes: Exception, pause: float = 0.0) -> None:
        self._outcomes = list(outcomes)
        self._pause = pause
        self.delivered: list[int] = []

    async def deliver(self, write: ClaimedWrite) -> None:
        if self._pause:
            await asyncio.sleep(random.uniform(0, self._pause))
        if self._outcomes:
            raise self._outcomes.pop(0)
        self.delivered.append(write.id)


def pending(key: str, fhir_server: str | None = None) -> PendingWrite:
    return PendingWrite(key, UUID(int=1), fhir_server, {"resourceType": "Bundle", "type": "transaction"})


def worker(
    store: InMemoryOutbox, deliverer: ScriptedDeliverer, clock: Clock, **options: object
) -> OutboxWorker:
    settings: dict[str, object] = {"worker_id": "w1", "max_attempts": 3, "wait": wait_fixed(30)} | options
    return OutboxWorker(store, deliverer, clock=clock, **settings)  # type: ignore[arg-type]


TRANSIENT = EhrTechnicalError("POST https://ehr/fhir answered 503", status=503)


class TestRunOnce:
    async def test_success_marks_the_row_delivered(self) -> None:
        store, clock = InMemoryOutbox(), Clock()
        store.enqueue(pending("a"), START)
        deliverer = ScriptedDeliverer()
        assert await worker(store, deliverer, clock).run_once() == 1
        row = store.by_key("a")
        assert (row.state, row.attempts, row.delivered_at) == (OutboxState.DELIVERED, 1, START)
        assert deliverer.delivered == [row.id]
        assert await worker(store, deliverer, clock).run_once() == 0

    async def test_a_transient_failure_is_retried_after_the_backoff_then_delivered(self) -> None:
        store, clock = InMemoryOutbox(), Clock()
        store.enqueue(pending("a"), START)
        outbox_worker = worker(store, ScriptedDeliverer(TRANSIENT), clock)
        await outbox_worker.run_once()
        row = store.by_key("a")
        assert (row.state, row.attempts, row.next_attempt_at) == (
            OutboxState.PENDING,
            1,
            START + timedelta(seconds=30),
        )
        assert row.last_error == TRANSIENT.message
        clock.now += timedelta(seconds=29)
        assert await outbox_worker.run_once() == 0
        clock.now += timedelta(seconds=1)
        assert await outbox_worker.run_once() == 1
        assert store.by_key("a").state is OutboxState.DELIVERED

    async def test_retry_after_longer_than_the_backoff_wins(self) -> None:
        store, clock = InMemoryOutbox(), Clock()
        store.enqueue(pending("a"), START)
        slow_down = EhrTechnicalError("429", status=429, retry_after_seconds=600)
        await worker(store, ScriptedDeliverer(slow_down), clock).run_once()
        assert store.by_key("a").next_attempt_at == START + timedelta(seconds=600)

    async def test_dead_after_max_attempts_with_the_last_error(self) -> None:
        store, clock = InMemoryOutbox(), Clock()
        store.enqueue(pending("a"), START)
        outbox_worker = worker(store, ScriptedDeliverer(TRANSIENT, TRANSIENT, TRANSIENT), clock)
        for _ in range(3):
            assert await outbox_worker.run_once() == 1
            clock.now += timedelta(seconds=30)
        row = store.by_key("a")
        assert (row.state, row.attempts, row.next_attempt_at) == (OutboxState.DEAD, 3, None)
        assert row.last_error == f"gave up after 3 attempts: {TRANSIENT.message}"
        assert (await store.status(clock.now)).last_dead_error == row.last_error

    async def test_a_permanent_failure_is_dead_at_once(self) -> None:
        store, clock = InMemoryOutbox(), Clock()
        store.enqueue(pending("a"), START)
        invalid = EhrRejectedError("POST x answered 400: invalid", status=400)
        await worker(store, ScriptedDeliverer(invalid), clock).run_once()
        row = store.by_key("a")
        assert (row.state, row.attempts) == (OutboxState.DEAD, 1)
        assert row.last_error == "permanent: POST x answered 400: invalid"

    async def test_a_crashing_deliverer_counts_as_a_transient_failure(self) -> None:
        store, clock = InMemoryOutbox(), Clock()
        store.enqueue(pending("a"), START)
        await worker(store, ScriptedDeliverer(RuntimeError("boom")), clock).run_once()
        row = store.by_key("a")
        assert (row.state, row.last_error) == (OutboxState.PENDING, "delivery crashed: RuntimeError")

    async def test_one_failure_does_not_hold_up_the_rest_of_the_batch(self) -> None:
        store, clock = InMemoryOutbox(), Clock()
        for key in "abc":
            store.enqueue(pending(key), START)
        await worker(store, ScriptedDeliverer(TRANSIENT), clock, batch_size=10).run_once()
        states = Counter(row.state for row in store.rows.values())
        assert states == Counter({OutboxState.DELIVERED: 2, OutboxState.PENDING: 1})

    async def test_a_batch_is_at_most_batch_size_oldest_first(self) -> None:
        store, clock = InMemoryOutbox(), Clock()
        for key in "abcde":
            store.enqueue(pending(key), START)
        deliverer = ScriptedDeliverer()
        assert await worker(store, deliverer, clock, batch_size=2).run_once() == 2
        assert sorted(deliverer.delivered) == [1, 2]

    async def test_deliveries_run_concurrently_up_to_the_bound(self) -> None:
        store, clock = InMemoryOutbox(), Clock()
        for key in "abcdef":
            store.enqueue(pending(key), START)
        running, peak = 0, 0

        class Counting(ScriptedDeliverer):
            async def deliver(self, write: ClaimedWrite) -> None:  # noqa: ARG002
                nonlocal running, peak
                running += 1
                peak = max(peak, running)
                await asyncio.sleep(0.01)
                running -= 1

        await worker(store, Counting(), clock, batch_size=10, concurrency=3).run_once()
        assert peak == 3

    def test_invalid_settings_are_refused(self) -> None:
        with pytest.raises(ValueError, match="positive"):
            worker(InMemoryOutbox(), ScriptedDeliverer(), Clock(), batch_size=0)


class TestBackoff:
    def test_grows_exponentially_with_jitter_between_base_and_a_cap(self) -> None:
        wait = backoff(5.0, 300.0)
        assert delay_after(wait, 1) == 5.0
        for attempt, ceiling in [(2, 10.0), (3, 20.0), (4, 40.0), (20, 300.0)]:
            delays = {delay_after(wait, attempt) for _ in range(50)}
            assert all(5.0 <= delay <= ceiling for delay in delays)
            assert len(delays) > 1
        assert max(delay_after(wait, 30) for _ in range(200)) > 150.0


class TestConcurrentWorkers:
    async def test_two_workers_never_deliver_the_same_row_twice(self) -> None:
        store, clock = InMemoryOutbox(), Clock()
        for number in range(60):
            store.enqueue(pending(f"k{number}"), START)
        deliverer = ScriptedDeliverer(pause=0.003)
        workers = [worker(store, deliverer, clock, worker_id=f"w{n}", batch_size=7) for n in (1, 2)]

        async def drain(outbox_worker: OutboxWorker) -> None:
            while await outbox_worker.run_once():
                pass

        await asyncio.gather(*(drain(w) for w in workers))
        assert sorted(deliverer.delivered) == list(range(1, 61))
        assert all(row.state is OutboxState.DELIVERED for row in store.rows.values())

    async def test_a_row_held_by_a_dead_worker_is_delivered_after_its_lease(self) -> None:
        store, clock = InMemoryOutbox(), Clock()
        store.enqueue(pending("a"), START)
        await store.claim("crashed", 10, START, lease_seconds=120)
        deliverer = ScriptedDeliverer()
        survivor = worker(store, deliverer, clock, worker_id="w2", lease_seconds=120)
        assert await survivor.run_once() == 0
        clock.now += timedelta(seconds=120)
        assert await survivor.run_once() == 1
        assert store.by_key("a").state is OutboxState.DELIVERED


class TestRunForever:
    async def test_notify_wakes_the_idle_worker_and_stop_ends_it(self) -> None:
        store, clock = InMemoryOutbox(), Clock()
        deliverer = ScriptedDeliverer()
        outbox_worker = worker(store, deliverer, clock)
        async with running_in_background(outbox_worker, idle_sleep=3600):
            await asyncio.sleep(0.01)
            store.enqueue(pending("a"), START)
            outbox_worker.notify()
            async with asyncio.timeout(2):
                while store.by_key("a").state is not OutboxState.DELIVERED:
                    await asyncio.sleep(0.005)

    async def test_without_notify_the_idle_worker_waits(self) -> None:
        store, clock = InMemoryOutbox(), Clock()
        outbox_worker = worker(store, ScriptedDeliverer(), clock)
        async with running_in_background(outbox_worker, idle_sleep=3600):
            await asyncio.sleep(0.01)
            store.enqueue(pending("a"), START)
            await asyncio.sleep(0.05)
            assert store.by_key("a").state is OutboxState.PENDING

    async def test_a_failing_store_does_not_stop_the_loop(self) -> None:
        store, clock = InMemoryOutbox(), Clock()
        store.enqueue(pending("a"), START)
        real_claim, calls = store.claim, []

        async def flaky_claim(*args: object, **kwargs: object) -> list[ClaimedWrite]:
            calls.append(1)
            if len(calls) == 1:
                raise ConnectionError("database restarting")
            return await real_claim(*args, **kwargs)  # type: ignore[arg-type]

        store.claim = flaky_claim  # type: ignore[method-assign]
        outbox_worker = worker(store, ScriptedDeliverer(), clock)
        async with running_in_background(outbox_worker, idle_sleep=0.01):
            async with asyncio.timeout(2):
                while store.by_key("a").state is not OutboxState.DELIVERED:
                    await asyncio.sleep(0.005)
        assert len(calls) >= 2

    async def test_stop_returns_promptly_while_idle(self) -> None:
        outbox_worker = worker(InMemoryOutbox(), ScriptedDeliverer(), Clock())
        stop = asyncio.Event()
        task = asyncio.create_task(outbox_worker.run_forever(stop, idle_sleep=3600))
        await asyncio.sleep(0.01)
        stop.set()
        async with asyncio.timeout(1):
            await task


class TestRetention:
    async def test_an_idle_worker_purges_delivered_rows_past_retention_at_most_hourly(self) -> None:
        store, clock = InMemoryOutbox(), Clock()
        outbox_worker = worker(store, ScriptedDeliverer(), clock, retain_delivered=timedelta(days=30))
        store.enqueue(pending("old"), START)
        assert await outbox_worker.run_once() == 1

        async def idle_pass() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(outbox_worker.run_forever(stop, idle_sleep=0.001))
            await asyncio.sleep(0.02)
            stop.set()
            await task

        clock.now = START + timedelta(days=29)
        await idle_pass()
        assert "old" in {row.write.key for row in store.rows.values()}  # still within retention

        clock.now = START + timedelta(days=29, minutes=30)
        store.rows[1].delivered_at = START - timedelta(days=2)  # now past retention...
        await idle_pass()
        assert 1 in store.rows  # ...but the last purge was under an hour ago

        clock.now = START + timedelta(days=29, hours=2)
        await idle_pass()
        assert store.rows == {}

    async def test_without_retention_nothing_is_purged(self) -> None:
        store, clock = InMemoryOutbox(), Clock()
        outbox_worker = worker(store, ScriptedDeliverer(), clock)
        store.enqueue(pending("kept"), START)
        await outbox_worker.run_once()
        clock.now = START + timedelta(days=3650)
        stop = asyncio.Event()
        task = asyncio.create_task(outbox_worker.run_forever(stop, idle_sleep=0.001))
        await asyncio.sleep(0.02)
        stop.set()
        await task
        assert len(store.rows) == 1
