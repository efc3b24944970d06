"""Everything a running service holds, created once in the app's lifespan and closed at shutdown."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine

from stratcare.api.reports_auth import ReportAccess, report_access
from stratcare.api.security import (
    ClientAuthenticator,
    warn_audience_from_host,
    warn_auth_off,
    warn_open_fhir_servers,
)
from stratcare.capture.wiring import CaptureRuntime, build_capture, capture_launch_url
from stratcare.cdshooks.models import DiscoveryResponse
from stratcare.cdshooks.services import ServiceRegistry
from stratcare.content import ContentRepository
from stratcare.engine.decider_by_kind import DeciderByKind
from stratcare.engine.decision import StratifiedCareDecider
from stratcare.engine.feedback import FeedbackService
from stratcare.engine.hierarchy import HierarchyLookup
from stratcare.engine.letters_decision import LETTERS_DECISION, SpineLettersDecider
from stratcare.engine.runner import HookRunner
from stratcare.fhir.client import HttpxFhirClient
from stratcare.fhir.terminology_server import HttpxTerminologyServer
from stratcare.observability import MeteredTransport, ServiceMetrics
from stratcare.observability.transport import FetchObserver
from stratcare.reports.clinic import clinic_reader
from stratcare.settings import Settings
from stratcare.store.ledger import SqlLedgers
from stratcare.store.reports_support import SqlClinicianSupport
from stratcare.writeback.delivery import TokenHandoff
from stratcare.writeback.intake import HookWriteback
from stratcare.writeback.outbox import OutboxStore
from stratcare.writeback.settings import WritebackSettings
from stratcare.writeback.targets import WritebackTargets
from stratcare.writeback.wiring import build_deliverer, build_worker
from stratcare.writeback.worker import running_in_background

logger = logging.getLogger(__name__)


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
    outbox: OutboxStore
    authenticator: ClientAuthenticator
    writeback_targets: WritebackTargets
    metrics: ServiceMetrics
    capture: CaptureRuntime
    reports: ReportAccess | None = None

    def discovery(self) -> DiscoveryResponse:
        return DiscoveryResponse(services=[service.descriptor() for service in self.registry.all()])


def http_client(timeout_seconds: float, *, observe: FetchObserver | None = None) -> httpx.AsyncClient:
    """An outbound client; with ``observe``, every request it sends is timed and its outcome reported."""
    timeout = httpx.Timeout(timeout_seconds, connect=min(timeout_seconds, 2.0))
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
    if observe is None:
        return httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False)
    transport = MeteredTransport(httpx.AsyncHTTPTransport(limits=limits), observe)
    return httpx.AsyncClient(timeout=timeout, transport=transport, follow_redirects=False)


def delivery_timeout(settings: WritebackSettings) -> float:
    """Long enough for a slow server, short enough that a batch ends well within a claim's lease."""
    rounds = -(-settings.batch_size // settings.concurrency)
    return max(5.0, min(30.0, settings.lease_seconds / (2 * rounds)))


async def start_writeback(
    settings: WritebackSettings, targets: WritebackTargets, ledgers: SqlLedgers, stack: AsyncExitStack
) -> HookWriteback:
    """The hook side of write-back, and the in-process delivery worker when one is configured."""
    logger.info(targets.summary(), extra={"writeback": targets.describe()})
    if not settings.queues_writes:
        return HookWriteback(targets)
    handoff = TokenHandoff()
    delivery_http = await stack.enter_async_context(http_client(delivery_timeout(settings)))
    deliverer = build_deliverer(settings, targets, delivery_http, handoff, utc_now)
    if not settings.run_in_process:
        return HookWriteback(targets)
    worker = build_worker(settings, ledgers.outbox(), deliverer, utc_now)
    await stack.enter_async_context(running_in_background(worker, idle_sleep=settings.idle_poll_seconds))
    return HookWriteback(targets, handoff, worker.notify)


def client_authenticator(
    settings: Settings, http: httpx.AsyncClient, ledgers: SqlLedgers
) -> ClientAuthenticator:
    """JWT checks for CDS clients; replayed token ids are caught across replicas through the store."""
    auth = settings.auth_settings()
    authenticator = ClientAuthenticator(
        auth,
        http,
        ledgers.replay_guard(),
        utc_now,
        public_base_url=str(settings.public_base_url) if settings.public_base_url else None,
    )
    if not authenticator.enabled:
        warn_auth_off(logger)
    elif not auth.issuers:
        logger.error("authentication is on but STRATCARE_JWT_ISSUERS names no issuer: every call is refused")
    if authenticator.enabled and settings.public_base_url is None:
        warn_audience_from_host(logger)
    warn_open_fhir_servers(auth, logger)
    return authenticator


async def hierarchy_lookup(settings: Settings, stack: AsyncExitStack) -> HierarchyLookup | None:
    """The SNOMED CT hierarchy lookup when a terminology server is configured."""
    if settings.terminology_server_url is None:
        return None
    http = await stack.enter_async_context(http_client(settings.terminology_timeout_seconds))
    server = HttpxTerminologyServer(http, str(settings.terminology_server_url))
    logger.info("terminology server configured", extra={"url": str(settings.terminology_server_url)})
    return HierarchyLookup(server, timeout_seconds=settings.terminology_timeout_seconds)


def load_content(
    settings: Settings, hierarchy: HierarchyLookup | None = None
) -> tuple[ContentRepository, ServiceRegistry, DeciderByKind]:
    """The content files, the services they describe and their decisions (ContentError, ValueError)."""
    content = ContentRepository.load(settings.content_dir)
    registry = ServiceRegistry.from_content(content)
    decider = DeciderByKind(
        {
            "stratified-care": StratifiedCareDecider.from_content(
                content,
                registry,
                hierarchy,
                licensed_dir=settings.licensed_content_dir,
                capture_launch_url=capture_launch_url(settings),
            ),
            LETTERS_DECISION: SpineLettersDecider.from_content(
                content, registry, settings.letter_templates_dir, hierarchy
            ),
        },
        registry,
    )
    return content, registry, decider


@asynccontextmanager
async def open_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    metrics = ServiceMetrics()
    ledgers = await SqlLedgers.open(settings.database_url, upgrade=settings.database_upgrade_on_start)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(ledgers.close)
        content, registry, decider = load_content(settings, await hierarchy_lookup(settings, stack))
        http = await stack.enter_async_context(http_client(settings.fhir_timeout_seconds))
        prefetch_http = await stack.enter_async_context(
            http_client(settings.fhir_timeout_seconds, observe=metrics.observe_fetch)
        )
        targets = WritebackTargets.from_settings(settings.writeback, settings.auth_settings())
        writeback = await start_writeback(settings.writeback, targets, ledgers, stack)
        authenticator = client_authenticator(settings, http, ledgers)
        yield Runtime(
            settings=settings,
            content=content,
            registry=registry,
            hooks=HookRunner(
                registry=registry,
                decider=decider,
                reader=HttpxFhirClient(prefetch_http),
                recorder=ledgers.hook_recorder(),
                clock=utc_now,
                new_uuid=uuid.uuid4,
                fhir_timeout_seconds=settings.fhir_timeout_seconds,
                fhir_max_pages=settings.fhir_max_pages,
                deadline_seconds=settings.hook_deadline_seconds,
                writeback=writeback,
                clinic_of=clinic_reader(settings.reports.clinic_source),
                support=SqlClinicianSupport(ledgers.engine, settings.reports),
            ),
            feedback=FeedbackService(registry, ledgers.feedback_ledger, utc_now),
            database=ledgers.engine,
            outbox=ledgers.outbox(),
            authenticator=authenticator,
            writeback_targets=targets,
            metrics=metrics,
            capture=build_capture(settings, content, ledgers, utc_now, writeback.wake, http, targets),
            reports=report_access(settings.reports, http),
        )


async def get_runtime(request: Request) -> Runtime:
    # async: a plain ``def`` dependency is run in a worker thread on every request.
    runtime: Runtime = request.app.state.runtime
    return runtime
