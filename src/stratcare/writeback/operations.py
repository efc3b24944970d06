"""Operating the outbox: drain it from a worker process, and report its state to people and to Prometheus.

Pure apart from the worker loop: the reports are functions of an ``OutboxStatus``.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from stratcare.writeback.outbox import OutboxStatus
from stratcare.writeback.worker import OutboxWorker

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def drain(worker: OutboxWorker) -> int:
    """Run passes until one claims nothing (no row is due); how many rows were claimed in all.

    A row whose attempt failed is due again only after its backoff, so this ends during an outage too.
    """
    total = 0
    while claimed := await worker.run_once():
        total += claimed
    return total


@contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """Set ``stop`` on SIGINT or SIGTERM while the block runs (call from the event loop's thread)."""
    loop = asyncio.get_running_loop()
    for number in STOP_SIGNALS:
        loop.add_signal_handler(number, stop.set)
    try:
        yield
    finally:
        for number in STOP_SIGNALS:
            loop.remove_signal_handler(number)


def status_document(status: OutboxStatus) -> dict[str, Any]:
    """The status as JSON, with the field names of ``GET /health``."""
    return {
        "pending": status.pending,
        "inFlight": status.in_flight,
        "delivered": status.delivered,
        "dead": status.dead,
        "oldestPendingAgeSeconds": status.oldest_pending_age_seconds,
        "lastDeadError": status.last_dead_error,
    }


def status_lines(status: OutboxStatus) -> list[str]:
    """The status for a person at a terminal."""
    age = status.oldest_pending_age_seconds
    lines = [
        f"pending:       {status.pending}",
        f"in flight:     {status.in_flight}",
        f"delivered:     {status.delivered}",
        f"dead:          {status.dead}",
        f"oldest queued: {'-' if age is None else format_age(age)}",
    ]
    if status.last_dead_error:
        lines.append(f"last dead error: {status.last_dead_error}")
    return lines


def format_age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


_METRICS = (
    ("stratcare_outbox_pending", "gauge", "Writes waiting for their first delivery or for a retry."),
    ("stratcare_outbox_in_flight", "gauge", "Writes claimed by a worker and being delivered."),
    ("stratcare_outbox_delivered_total", "counter", "Writes the FHIR server applied."),
    ("stratcare_outbox_dead", "gauge", "Writes given up on; they wait for an operator to requeue them."),
    (
        "stratcare_outbox_oldest_pending_age_seconds",
        "gauge",
        "Age of the oldest write not yet delivered (pending or in flight); 0 when there is none.",
    ),
)


def prometheus_exposition(status: OutboxStatus) -> str:
    """The status in the Prometheus text exposition format (version 0.0.4)."""
    values = (
        status.pending,
        status.in_flight,
        status.delivered,
        status.dead,
        status.oldest_pending_age_seconds or 0.0,
    )
    lines: list[str] = []
    for (name, kind, help_text), value in zip(_METRICS, values, strict=True):
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name} {_sample(value)}"]
    return "\n".join(lines) + "\n"


def _sample(value: float) -> str:
    return str(value) if isinstance(value, int) else repr(float(value))
