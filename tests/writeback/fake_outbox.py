"""An in-memory ``OutboxStore`` that keeps the protocol's promises, for worker tests.

Claims are atomic (one lock, with a yield inside so concurrent callers really interleave), oldest first,
take pending rows that are due and in-flight rows whose lease ran out; marks from a worker that no longer
holds the row are ignored, as a store with leases must.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

from stratcare.writeback.outbox import ClaimedWrite, OutboxState, OutboxStatus, PendingWrite


@dataclass
class Row:
    id: int
    write: PendingWrite
    created_at: datetime
    state: OutboxState = OutboxState.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    lease_until: datetime | None = None
    claimed_by: str | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    failed_at: datetime | None = None


class InMemoryOutbox:
    def __init__(self) -> None:
        self.rows: dict[int, Row] = {}
        self._lock = asyncio.Lock()
        self._ids = itertools.count(1)

    def enqueue(self, write: PendingWrite, now: datetime) -> bool:
        """Queue ``write`` unless a row with its key exists (what the hook ledger does)."""
        if any(row.write.key == write.key for row in self.rows.values()):
            return False
        row_id = next(self._ids)
        self.rows[row_id] = Row(row_id, write, now, next_attempt_at=now)
        return True

    def by_key(self, key: str) -> Row:
        (row,) = [row for row in self.rows.values() if row.write.key == key]
        return row

    async def claim(
        self, worker_id: str, limit: int, now: datetime, lease_seconds: float
    ) -> list[ClaimedWrite]:
        async with self._lock:
            due = [row for row in sorted(self.rows.values(), key=lambda r: r.id) if self._due(row, now)][
                :limit
            ]
            await asyncio.sleep(0)
            for row in due:
                row.state = OutboxState.IN_FLIGHT
                row.claimed_by = worker_id
                row.lease_until = now + timedelta(seconds=lease_seconds)
            return [
                ClaimedWrite(
                    row.id,
                    row.write.key,
                    row.write.hook_instance,
                    row.write.fhir_server,
                    row.write.bundle,
                    row.attempts,
                )
                for row in due
            ]

    @staticmethod
    def _due(row: Row, now: datetime) -> bool:
        if row.state is OutboxState.PENDING:
            return row.next_attempt_at is None or row.next_attempt_at <= now
        return row.state is OutboxState.IN_FLIGHT and row.lease_until is not None and row.lease_until <= now

    def _held(self, write_id: int, worker_id: str) -> Row | None:
        row = self.rows.get(write_id)
        if row is None or row.state is not OutboxState.IN_FLIGHT or row.claimed_by != worker_id:
            return None
        return row

    async def mark_delivered(self, write_id: int, worker_id: str, now: datetime) -> None:
        async with self._lock:
            row = self._held(write_id, worker_id)
            if row is not None:
                row.state, row.attempts, row.delivered_at = OutboxState.DELIVERED, row.attempts + 1, now
                row.claimed_by = row.lease_until = None

    async def mark_failed(
        self, write_id: int, worker_id: str, error: str, retry_at: datetime | None, now: datetime
    ) -> None:
        async with self._lock:
            row = self._held(write_id, worker_id)
            if row is None:
                return
            row.attempts += 1
            row.last_error = error
            row.failed_at = now
            row.claimed_by = row.lease_until = None
            row.state = OutboxState.DEAD if retry_at is None else OutboxState.PENDING
            row.next_attempt_at = retry_at

    async def status(self, now: datetime) -> OutboxStatus:
        rows = list(self.rows.values())
        pending = [row for row in rows if row.state is OutboxState.PENDING]
        dead = sorted((row for row in rows if row.state is OutboxState.DEAD), key=lambda r: r.id)
        return OutboxStatus(
            pending=len(pending),
            in_flight=sum(row.state is OutboxState.IN_FLIGHT for row in rows),
            delivered=sum(row.state is OutboxState.DELIVERED for row in rows),
            dead=len(dead),
            oldest_pending_age_seconds=max(
                ((now - row.created_at).total_seconds() for row in pending), default=None
            ),
            last_dead_error=dead[-1].last_error if dead else None,
        )

    async def purge_delivered(self, delivered_before: datetime) -> int:
        old = [
            row.id
            for row in self.rows.values()
            if row.state is OutboxState.DELIVERED
            and row.delivered_at is not None
            and row.delivered_at < delivered_before
        ]
        for write_id in old:
            del self.rows[write_id]
        return len(old)

    async def requeue_dead(self, now: datetime) -> int:
        dead = [row for row in self.rows.values() if row.state is OutboxState.DEAD]
        for row in dead:
            row.state, row.next_attempt_at, row.attempts = OutboxState.PENDING, now, 0
        return len(dead)
