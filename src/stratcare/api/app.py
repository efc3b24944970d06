"""The FastAPI application: routers, error translation and the runtime's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from stratcare import __version__
from stratcare.api.capture import router as capture_router
from stratcare.api.cds_services import router as cds_router
from stratcare.api.errors import install_error_handlers
from stratcare.api.health import router as health_router
from stratcare.api.limits import BodyLimitMiddleware
from stratcare.api.metrics import router as metrics_router
from stratcare.api.reports import router as reports_router
from stratcare.api.runtime import open_runtime
from stratcare.logs import configure_logging
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

    docs = resolved.serves_api_docs
    app = FastAPI(
        title="stratcare",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    install_error_handlers(app)
    app.add_middleware(
        BodyLimitMiddleware,
        max_body_bytes=resolved.max_body_bytes,
        max_json_depth=resolved.max_json_depth,
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=resolved.cors_origins,
        allow_origin_regex=resolved.cors_origin_regex or None,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Accept"],
        max_age=600,
    )
    if resolved.trusted_proxies:
        # Outermost, so the scheme is the client's before the token audience is derived from the URL.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(resolved.trusted_proxies))
    app.include_router(cds_router)
    app.include_router(health_router)
    app.include_router(metrics_router)
    app.include_router(capture_router)
    app.include_router(reports_router)
    return app


def serve_app() -> FastAPI:
    """The factory ``stratcare serve`` runs in each worker process: JSON logs, settings from the env."""
    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings)
