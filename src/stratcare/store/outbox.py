"""``OutboxStore`` on SQL: claims with leases, so any number of workers drain one queue safely.

A claim selects due rows and marks them in-flight in one transaction: on PostgreSQL the rows are locked
``FOR UPDATE SKIP LOCKED`` (concurrent claimers take different rows without waiting); on SQLite the
transaction holds the single write lock from its start (``BEGIN IMMEDIATE``). ``attempts`` is counted at
claim, so a worker that dies mid-delivery still uses up an attempt.

A worker may only settle a row it still holds: ``mark_delivered`` and ``mark_failed`` change nothing when
the row's lease ran out and another worker claimed it since.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from stratcare.store.database import write_serialised
from stratcare.store.schema import as_utc, outbox
from stratcare.writeback.outbox import ClaimedWrite, OutboxState, OutboxStatus

logger = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 2000
_PENDING, _IN_FLIGHT = OutboxState.PENDING.value, OutboxState.IN_FLIGHT.value
_DELIVERED, _DEAD = OutboxState.DELIVERED.value, OutboxState.DEAD.value


class SqlOutbox:
    """Implements ``OutboxStore``; each method is its own transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def claim(
        self, worker_id: str, limit: int, now: datetime, lease_seconds: float
    ) -> list[ClaimedWrite]:
        """Claim up to ``limit`` due rows (pending and due, or in-flight past its lease), oldest first."""
        if limit < 1 or lease_seconds <= 0:
            raise ValueError("claim needs limit >= 1 and lease_seconds > 0")
        now = as_utc(now, "now")
        due = or_(
            and_(outbox.c.state == _PENDING, outbox.c.next_attempt_at <= now),
            and_(outbox.c.state == _IN_FLIGHT, outbox.c.lease_until <= now),
        )
        query = select(outbox).where(due).order_by(outbox.c.id).limit(limit)
        async with write_serialised(self._engine) as connection:
            if connection.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = (await connection.execute(query)).mappings().all()
            if rows:
                await connection.execute(
                    update(outbox)
                    .where(outbox.c.id.in_([row["id"] for row in rows]))
                    .values(
                        state=_IN_FLIGHT,
                        claimed_by=worker_id,
                        lease_until=now + timedelta(seconds=lease_seconds),
                        attempts=outbox.c.attempts + 1,
                        updated_at=now,
                    )
                )
        return [_claimed(row) for row in rows]

    async def mark_delivered(self, write_id: int, worker_id: str, now: datetime) -> None:
        now = as_utc(now, "now")
        await self._settle(
            write_id, worker_id, state=_DELIVERED, delivered_at=now, lease_until=None, updated_at=now
        )

    async def mark_failed(
        self, write_id: int, worker_id: str, error: str, retry_at: datetime | None, now: datetime
    ) -> None:
        """Record a failed attempt: back to pending until ``retry_at``, or dead when ``retry_at`` is None."""
        now = as_utc(now, "now")
        values: dict[str, Any] = {"last_error": error[:MAX_ERROR_LENGTH], "lease_until": None}
        values["updated_at"] = now
        if retry_at is None:
            values.update(state=_DEAD)
        else:
            values.update(state=_PENDING, next_attempt_at=as_utc(retry_at, "retry_at"), claimed_by=None)
        await self._settle(write_id, worker_id, **values)

    async def _settle(self, write_id: int, worker_id: str, **values: Any) -> None:
        statement = (
            update(outbox)
            .where(outbox.c.id == write_id, outbox.c.claimed_by == worker_id, outbox.c.state == _IN_FLIGHT)
            .values(**values)
            .returning(outbox.c.id)
        )
        async with write_serialised(self._engine) as connection:
            settled = (await connection.execute(statement)).first()
        if settled is None:
            logger.warning(
                "outbox row no longer held by this worker; left unchanged",
                extra={"write_id": write_id, "worker_id": worker_id, "state": values.get("state")},
            )

    async def status(self, now: datetime) -> OutboxStatus:
        now = as_utc(now, "now")
        counts = select(outbox.c.state, func.count()).group_by(outbox.c.state)
        oldest = select(func.min(outbox.c.created_at)).where(outbox.c.state.in_([_PENDING, _IN_FLIGHT]))
        last_dead = (
            select(outbox.c.last_error)
            .where(outbox.c.state == _DEAD)
            .order_by(outbox.c.updated_at.desc(), outbox.c.id.desc())
            .limit(1)
        )
        async with write_serialised(self._engine) as connection:
            per_state: dict[str, int] = {state: count for state, count in await connection.execute(counts)}
            oldest_at = (await connection.execute(oldest)).scalar_one_or_none()
            last_error = (await connection.execute(last_dead)).scalar_one_or_none()
        return OutboxStatus(
            pending=per_state.get(_PENDING, 0),
            in_flight=per_state.get(_IN_FLIGHT, 0),
            delivered=per_state.get(_DELIVERED, 0),
            dead=per_state.get(_DEAD, 0),
            oldest_pending_age_seconds=None if oldest_at is None else (now - oldest_at).total_seconds(),
            last_dead_error=last_error,
        )

    async def requeue_dead(self, now: datetime) -> int:
        """Put every dead row back to pending, due now and with a fresh attempt count; returns how many."""
        now = as_utc(now, "now")
        statement = (
            update(outbox)
            .where(outbox.c.state == _DEAD)
            .values(state=_PENDING, next_attempt_at=now, attempts=0, claimed_by=None, updated_at=now)
            .returning(outbox.c.id)
        )
        async with write_serialised(self._engine) as connection:
            return len((await connection.execute(statement)).all())

    async def purge_delivered(self, delivered_before: datetime) -> int:
        """Delete delivered rows older than the cut-off; rows not yet delivered are never touched."""
        cutoff = as_utc(delivered_before, "delivered_before")
        statement = (
            delete(outbox)
            .where(outbox.c.state == _DELIVERED, outbox.c.delivered_at < cutoff)
            .returning(outbox.c.id)
        )
        async with write_serialised(self._engine) as connection:
            return len((await connection.execute(statement)).all())


def _claimed(row: Any) -> ClaimedWrite:
    return ClaimedWrite(
        id=row["id"],
        key=row["key"],
        hook_instance=row["hook_instance"],
        fhir_server=row["fhir_server"],
        bundle=row["bundle"],
        attempts=row["attempts"],
    )
