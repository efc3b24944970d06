"""Liveness and metrics: the process is up, its store answers, and how far write-back is behind."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlalchemy import text

from stratcare import __version__
from stratcare.api.runtime import Runtime, get_runtime, utc_now
from stratcare.api.schemas import Health, OutboxHealth, WritebackHealth
from stratcare.writeback.operations import PROMETHEUS_CONTENT_TYPE, prometheus_exposition, status_document

router = APIRouter(tags=["Operations"])


@router.get("/health", response_model=Health)
async def health(runtime: Annotated[Runtime, Depends(get_runtime)]) -> Health:
    """Report that the service is up and its database answers, with the state of the write-back outbox
    and where results are written (`writeback`): the mode and the servers configured for write-back.

    Dead writes and a growing backlog do not make the service unhealthy: hook calls are still answered.
    Alert on `outbox.dead` and `outbox.oldestPendingAgeSeconds` instead (or on `GET /metrics`).
    """
    async with runtime.database.connect() as connection:
        await connection.execute(text("SELECT 1"))
    status = await runtime.outbox.status(utc_now())
    return Health(
        status="ok",
        version=__version__,
        outbox=OutboxHealth.model_validate(status_document(status)),
        writeback=WritebackHealth.model_validate(runtime.writeback_targets.describe()),
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {PROMETHEUS_CONTENT_TYPE: {"schema": {"type": "string"}}}}},
)
async def metrics(runtime: Annotated[Runtime, Depends(get_runtime)]) -> Response:
    """The write-back outbox in the Prometheus text exposition format: `stratcare_outbox_pending`,
    `stratcare_outbox_in_flight`, `stratcare_outbox_delivered_total`, `stratcare_outbox_dead` and
    `stratcare_outbox_oldest_pending_age_seconds`."""
    status = await runtime.outbox.status(utc_now())
    return Response(prometheus_exposition(status), media_type=PROMETHEUS_CONTENT_TYPE)
