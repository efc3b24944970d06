"""Drains the outbox: claim due rows, deliver them concurrently, record each outcome.

A technical failure (``EhrTechnicalError``) goes back to pending with a retry time from an exponential
backoff with jitter (never sooner than the server's ``Retry-After``); a rejection (``EhrRejectedError``),
or the last allowed attempt, makes the row dead with the error text (which never holds a token). Several
workers, in one process or many, may drain the same store: the store's claim hands each row to one of
them, and a lease brings back the rows of a worker that died. Delivery runs in a background task, so a
hook answers without waiting for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from datetime import datetime, timedelta

from tenacity import RetryCallState, Retrying, wait_random_exponential
from tenacity.wait import wait_base

from stratcare.errors import EhrError, EhrTechnicalError
from stratcare.writeback.delivery import WriteDeliverer
from stratcare.writeback.outbox import ClaimedWrite, OutboxStore

logger = logging.getLogger(__name__)

PURGE_INTERVAL = timedelta(hours=1)


def backoff(base_seconds: float, max_seconds: float) -> wait_base:
    """After failed attempt ``n``: uniformly between ``base`` and ``base · 2^(n-1)``, at most ``max_seconds``.

    Random ("full") jitter spreads the retries of rows that failed together, e.g. during an EHR outage.
    """
    return wait_random_exponential(multiplier=base_seconds, max=max_seconds, min=base_seconds)


def delay_after(wait: wait_base, attempt: int) -> float:
    """The wait ``wait`` prescribes after failed attempt number ``attempt`` (1-based)."""
    state = RetryCallState(retry_object=Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    return float(wait(state))


class OutboxWorker:
    def __init__(
        self,
        store: OutboxStore,
        deliverer: WriteDeliverer,
        *,
        clock: Callable[[], datetime],
        worker_id: str,
        batch_size: int = 20,
        lease_seconds: float = 120.0,
        max_attempts: int = 10,
        wait: wait_base | None = None,
        concurrency: int = 4,
        retain_delivered: timedelta | None = None,
    ) -> None:
        if batch_size < 1 or max_attempts < 1 or concurrency < 1 or lease_seconds <= 0:
            raise ValueError("batch_size, max_attempts, concurrency and lease_seconds must be positive")
        self._store = store
        self._deliverer = deliverer
        self._clock = clock
        self.worker_id = worker_id
        self._batch_size = batch_size
        self._lease_seconds = lease_seconds
        self._max_attempts = max_attempts
        self._wait = wait or backoff(5.0, 3600.0)
        self._concurrency = concurrency
        self._wake = asyncio.Event()
        self._retain_delivered = retain_delivered
        self._next_purge: datetime | None = None

    def notify(self) -> None:
        """Say that rows were queued: a sleeping ``run_forever`` starts its next pass now."""
        self._wake.set()

    kick = notify

    async def run_once(self) -> int:
        """Claim one batch and settle every row of it; how many rows were claimed."""
        writes = await self._store.claim(self.worker_id, self._batch_size, self._clock(), self._lease_seconds)
        if not writes:
            return 0
        limit = asyncio.Semaphore(self._concurrency)

        async def settle(write: ClaimedWrite) -> None:
            async with limit:
                await self._settle(write, await self._attempt(write))

        results = await asyncio.gather(*(settle(write) for write in writes), return_exceptions=True)
        errors = [result for result in results if isinstance(result, BaseException)]
        if errors:
            raise errors[0]
        return len(writes)

    async def run_forever(self, stop: asyncio.Event, idle_sleep: float) -> None:
        """Pass after pass until ``stop`` is set; sleeps ``idle_sleep`` (or until notified) when idle."""
        while not stop.is_set():
            self._wake.clear()
            try:
                claimed = await self.run_once()
            except Exception:
                logger.exception("outbox pass failed", extra={"worker": self.worker_id})
                claimed = 0
            if claimed < self._batch_size:
                await self._purge_if_due()
                await self._idle(stop, idle_sleep)

    async def _purge_if_due(self) -> None:
        """At most hourly, while idle: delete delivered rows past the retention period (if one is set)."""
        now = self._clock()
        if self._retain_delivered is None or (self._next_purge is not None and now < self._next_purge):
            return
        self._next_purge = now + PURGE_INTERVAL
        try:
            purged = await self._store.purge_delivered(now - self._retain_delivered)
        except Exception:
            logger.exception("outbox purge failed", extra={"worker": self.worker_id})
            return
        if purged:
            logger.info("delivered writes purged", extra={"worker": self.worker_id, "count": purged})

    async def _idle(self, stop: asyncio.Event, seconds: float) -> None:
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    async def _attempt(self, write: ClaimedWrite) -> EhrError | None:
        """The attempt's failure, or None when the write was delivered."""
        try:
            await self._deliverer.deliver(write)
        except EhrError as failure:
            return failure
        except Exception as exc:
            logger.exception("write-back delivery crashed", extra={"outboxId": write.id})
            return EhrTechnicalError(f"delivery crashed: {type(exc).__name__}")
        return None

    async def _settle(self, write: ClaimedWrite, failure: EhrError | None) -> None:
        now = self._clock()
        if failure is None:
            await self._store.mark_delivered(write.id, self.worker_id, now)
            return
        attempt = write.attempts + 1
        retry_at: datetime | None = None
        if not isinstance(failure, EhrTechnicalError):
            error = f"permanent: {failure.message}"
        elif attempt >= self._max_attempts:
            error = f"gave up after {attempt} attempts: {failure.message}"
        else:
            error = failure.message
            delay = max(delay_after(self._wait, attempt), failure.retry_after_seconds or 0.0)
            retry_at = now + timedelta(seconds=delay)
        logger.info(
            "write-back attempt failed",
            extra={"outboxId": write.id, "attempt": attempt, "dead": retry_at is None, "error": error},
        )
        await self._store.mark_failed(write.id, self.worker_id, error, retry_at, now)


@asynccontextmanager
async def running_in_background(
    worker: OutboxWorker, *, idle_sleep: float, shutdown_grace_seconds: float = 5.0
) -> AsyncIterator[OutboxWorker]:
    """Run ``worker.run_forever`` as a background task for the duration of the block (the app's lifespan).

    On exit the worker finishes its current pass within the grace period or is cancelled; rows it held
    become claimable again when their lease runs out.
    """
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_forever(stop, idle_sleep), name=f"outbox-{worker.worker_id}")
    try:
        yield worker
    finally:
        stop.set()
        with suppress(TimeoutError):
            await asyncio.wait_for(task, shutdown_grace_seconds)
