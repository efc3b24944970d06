"""Builds the capture page's service from the settings, the content and the store."""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from pydantic import SecretStr

from stratcare.auth import normalise_fhir_url
from stratcare.capture.pages import CapturePages
from stratcare.capture.service import CaptureService
from stratcare.capture.tickets import TicketSigner
from stratcare.capture.workflow import WORKFLOW_POINT_SYSTEM, WorkflowPointCodes
from stratcare.content import ContentRepository
from stratcare.instruments import InstrumentRegistry
from stratcare.settings import Settings
from stratcare.store.ledger import SqlLedgers
from stratcare.writeback.targets import WritebackTargets

logger = logging.getLogger(__name__)


@dataclass
class CaptureRuntime:
    service: CaptureService
    signer: TicketSigner
    pages: CapturePages
    targets: WritebackTargets
    """Where a completed screen may be written: a server configured for write-back, as for hook calls."""
    smart_client_id: str | None
    link_lifetime: timedelta
    http: httpx.AsyncClient
    """For SMART discovery (the service's shared client)."""

    def target(self, base_url: str) -> str | None:
        return _target(self.targets, base_url)


def _target(targets: WritebackTargets, base_url: str) -> str | None:
    """The normalised write-back target ``base_url`` names, or None when screens may not go there."""
    if not (targets.queues_writes and targets.configured(base_url)):
        return None
    return normalise_fhir_url(base_url)


LAUNCH_PATH = "/capture/launch"


def capture_launch_url(settings: Settings) -> str | None:
    """The capture page's SMART launch URL for CDS Hooks ``smart`` links: it must be absolute, so both
    STRATCARE_PUBLIC_BASE_URL and STRATCARE_SMART_CLIENT_ID must be set (without the client id the launch
    is refused)."""
    if settings.smart_client_id is None:
        return None
    if settings.public_base_url is None:
        logger.warning(
            "STRATCARE_SMART_CLIENT_ID is set but STRATCARE_PUBLIC_BASE_URL is not: cards asking for a "
            "screen carry no SMART link to the capture page"
        )
        return None
    return str(settings.public_base_url).rstrip("/") + LAUNCH_PATH


def link_signer(settings: Settings, clock: Callable[[], datetime]) -> TicketSigner:
    secret = settings.capture_secret
    if secret is None:
        logger.warning(
            "STRATCARE_CAPTURE_SECRET is not set: capture links work only on the process that issued them"
        )
        secret = SecretStr(secrets.token_urlsafe(32))
    return TicketSigner(secret, clock)


def workflow_points(content: ContentRepository) -> WorkflowPointCodes:
    return WorkflowPointCodes.from_code_system(content.resolve("CodeSystem", WORKFLOW_POINT_SYSTEM))


def build_capture(
    settings: Settings,
    content: ContentRepository,
    ledgers: SqlLedgers,
    clock: Callable[[], datetime],
    on_queued: Callable[[], None],
    http: httpx.AsyncClient,
    targets: WritebackTargets,
) -> CaptureRuntime:
    signer = link_signer(settings, clock)
    service = CaptureService(
        registry=InstrumentRegistry.from_content(content),
        points=workflow_points(content),
        signer=signer,
        links=ledgers.replay_guard(),
        ledger=ledgers.capture_ledger(),
        clock=clock,
        new_id=uuid.uuid4,
        form_lifetime=timedelta(seconds=settings.capture_form_seconds),
        writes_to=lambda base_url: _target(targets, base_url) is not None,
        on_queued=on_queued,
    )
    return CaptureRuntime(
        service=service,
        signer=signer,
        pages=CapturePages(),
        targets=targets,
        smart_client_id=settings.smart_client_id,
        link_lifetime=timedelta(seconds=settings.capture_link_seconds),
        http=http,
    )
