"""The outbox: write-back Bundles recorded with their assessment and drained by workers.

A row holds only what is needed to deliver a Bundle: never a token. The store implements ``OutboxStore``;
the delivery worker depends on nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from stratcare.json_types import JsonObject


class OutboxState(StrEnum):
    PENDING = "pending"
    """Waiting for its first delivery or for its next retry (``next_attempt_at``)."""
    IN_FLIGHT = "in-flight"
    """Claimed by a worker until ``lease_until``; a crashed worker's rows become claimable again after it."""
    DELIVERED = "delivered"
    DEAD = "dead"
    """Gave up (permanent error or attempt cap reached); ``last_error`` says why. Requeued only by hand."""


@dataclass(frozen=True)
class PendingWrite:
    """A Bundle to deliver, recorded in the same transaction as the assessment it comes from."""

    key: str
    """The assessment's identifier: a second write with the same key for the same server is not queued."""
    hook_instance: UUID
    fhir_server: str | None
    """Normalised base URL to write to. None only in rows queued before writes were keyed by server: the
    configured EHR base URL."""
    bundle: JsonObject


@dataclass(frozen=True)
class ClaimedWrite:
    id: int
    key: str
    hook_instance: UUID
    fhir_server: str | None
    bundle: JsonObject
    attempts: int
    """Delivery attempts made before this claim."""


@dataclass(frozen=True)
class OutboxStatus:
    pending: int
    in_flight: int
    delivered: int
    dead: int
    oldest_pending_age_seconds: float | None
    last_dead_error: str | None


class OutboxStore(Protocol):
    async def claim(
        self, worker_id: str, limit: int, now: datetime, lease_seconds: float
    ) -> list[ClaimedWrite]:
        """Claim up to ``limit`` due rows (pending and due, or in-flight with an expired lease), oldest first.

        No row is ever claimed by two workers at once (``FOR UPDATE SKIP LOCKED`` on PostgreSQL).
        """
        ...

    async def mark_delivered(self, write_id: int, worker_id: str, now: datetime) -> None: ...

    async def mark_failed(
        self, write_id: int, worker_id: str, error: str, retry_at: datetime | None, now: datetime
    ) -> None:
        """Record a failed attempt: back to pending until ``retry_at``, or dead when ``retry_at`` is None."""
        ...

    async def status(self, now: datetime) -> OutboxStatus: ...

    async def requeue_dead(self, now: datetime) -> int:
        """Put every dead row back to pending (after an operator fixed the cause); returns how many."""
        ...

    async def purge_delivered(self, delivered_before: datetime) -> int:
        """Delete delivered rows (and their Bundles) delivered before the cut-off; returns how many."""
        ...
