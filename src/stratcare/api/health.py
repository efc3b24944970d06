"""Liveness: the process is up, its store answers, and how far write-back is behind."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import text

from stratcare import __version__
from stratcare.api.runtime import Runtime, get_runtime, utc_now
from stratcare.api.schemas import Health, OutboxHealth, WritebackHealth
from stratcare.writeback.operations import status_document

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
