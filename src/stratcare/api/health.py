"""Liveness: the process is up and its store answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import text

from stratcare import __version__
from stratcare.api.runtime import Runtime, get_runtime
from stratcare.api.schemas import Health

router = APIRouter(tags=["Operations"])


@router.get("/health", response_model=Health)
async def health(runtime: Annotated[Runtime, Depends(get_runtime)]) -> Health:
    """Report that the service is up and its database answers."""
    async with runtime.database.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return Health(status="ok", version=__version__)
