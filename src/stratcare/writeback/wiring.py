"""Builds the write-back delivery side from ``WritebackSettings``: the deliverer and the outbox worker."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx

from stratcare.writeback.backend_auth import BackendServicesToken
from stratcare.writeback.delivery import Deliverer, TokenHandoff, TokenSource, WriteDeliverer
from stratcare.writeback.outbox import OutboxStore
from stratcare.writeback.settings import WritebackSettings
from stratcare.writeback.targets import WritebackTargets
from stratcare.writeback.worker import OutboxWorker, backoff


def build_deliverer(
    settings: WritebackSettings,
    targets: WritebackTargets,
    http: httpx.AsyncClient,
    handoff: TokenHandoff,
    clock: Callable[[], datetime],
) -> Deliverer:
    """A deliverer to the configured targets only; reads the Backend Services signing key now, so a bad key
    fails at start-up rather than at the first delivery."""
    backend: dict[str, TokenSource] = {}
    config = settings.backend_config()
    if config is not None and settings.ehr_base_url is not None:
        backend[str(settings.ehr_base_url)] = BackendServicesToken(config, http)
    ehr_base_url = str(settings.ehr_base_url) if settings.ehr_base_url else None
    return Deliverer(
        http,
        ehr_base_url=ehr_base_url,
        targets=targets,
        handoff=handoff,
        backend_tokens=backend,
        clock=clock,
    )


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def build_worker(
    settings: WritebackSettings,
    store: OutboxStore,
    deliverer: WriteDeliverer,
    clock: Callable[[], datetime],
    worker_id: str | None = None,
) -> OutboxWorker:
    return OutboxWorker(
        store,
        deliverer,
        clock=clock,
        worker_id=worker_id or default_worker_id(),
        batch_size=settings.batch_size,
        lease_seconds=settings.lease_seconds,
        max_attempts=settings.max_attempts,
        wait=backoff(settings.backoff_base_seconds, settings.backoff_max_seconds),
        concurrency=settings.concurrency,
        retain_delivered=(
            timedelta(days=settings.retain_delivered_days) if settings.retain_delivered_days else None
        ),
    )
