"""The FastAPI application: routers, error translation and the runtime's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from stratcare import __version__
from stratcare.api.cds_services import router as cds_router
from stratcare.api.errors import install_error_handlers
from stratcare.api.health import router as health_router
from stratcare.api.runtime import open_runtime
from stratcare.settings import Settings

DESCRIPTION = (
    "CDS Hooks 2.0 service for stratified care of musculoskeletal pain. It scores the patient's STarT Back "
    "and NIH chronic low back pain screens, sorts the patient into low, medium or high risk and returns "
    "cards with the matched treatment as a pended (draft) referral."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    resolved = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(resolved) as runtime:
            app.state.runtime = runtime
            yield

    app = FastAPI(title="stratcare", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    install_error_handlers(app)
    app.include_router(cds_router)
    app.include_router(health_router)
    return app
