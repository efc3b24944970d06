"""Everything a running service holds, created once in the app's lifespan and closed at shutdown."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine

from stratcare.cdshooks.models import DiscoveryResponse
from stratcare.cdshooks.services import ServiceRegistry
from stratcare.content import ContentRepository
from stratcare.engine.decision import StratifiedCareDecider
from stratcare.engine.feedback import FeedbackService
from stratcare.engine.runner import HookRunner
from stratcare.fhir.client import HttpxFhirClient
from stratcare.settings import Settings
from stratcare.store.ledger import SqlLedgers


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    settings: Settings
    content: ContentRepository
    registry: ServiceRegistry
    hooks: HookRunner
    feedback: FeedbackService
    database: AsyncEngine

    def discovery(self) -> DiscoveryResponse:
        return DiscoveryResponse(services=[service.descriptor() for service in self.registry.all()])


def http_client(settings: Settings) -> httpx.AsyncClient:
    timeout = httpx.Timeout(settings.fhir_timeout_seconds, connect=min(settings.fhir_timeout_seconds, 2.0))
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
    return httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False)


@asynccontextmanager
async def open_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    content = ContentRepository.load(settings.content_dir)
    registry = ServiceRegistry.from_descriptors(content.service_descriptors)
    decider = StratifiedCareDecider.from_content(content, registry)
    ledgers = await SqlLedgers.open(settings.database_url)
    async with http_client(settings) as http:
        try:
            yield Runtime(
                settings=settings,
                content=content,
                registry=registry,
                hooks=HookRunner(
                    registry=registry,
                    decider=decider,
                    reader=HttpxFhirClient(http),
                    unit_of_work=ledgers.hook_ledger,
                    clock=utc_now,
                    new_uuid=uuid.uuid4,
                    fhir_timeout_seconds=settings.fhir_timeout_seconds,
                ),
                feedback=FeedbackService(registry, ledgers.feedback_ledger, utc_now),
                database=ledgers.engine,
            )
        finally:
            await ledgers.close()


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime
