"""``GET /metrics``: the service's own metrics and the write-back outbox, for Prometheus.

Who may read them is a setting: open in development; in production only with ``STRATCARE_METRICS_TOKEN``
as a bearer token, and absent (404) when no token is set, so call volumes are not public by default.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from stratcare.api.runtime import Runtime, get_runtime, utc_now
from stratcare.api.schemas import OperationOutcome
from stratcare.writeback.operations import PROMETHEUS_CONTENT_TYPE, prometheus_exposition

router = APIRouter(tags=["Operations"])


def require_metrics_access(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)]) -> None:
    token = runtime.settings.metrics_token
    if token is None:
        if runtime.settings.environment != "development":
            raise HTTPException(404, "Not Found")
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    expected = token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not secrets.compare_digest(given.strip().encode(), expected):
        raise HTTPException(
            401, "GET /metrics needs the metrics bearer token", {"WWW-Authenticate": "Bearer"}
        )


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[Depends(require_metrics_access)],
    responses={
        200: {"content": {PROMETHEUS_CONTENT_TYPE: {"schema": {"type": "string"}}}},
        401: {
            "model": OperationOutcome,
            "description": "A metrics token is set; none or another was sent",
        },
        404: {"model": OperationOutcome, "description": "Not exposed (production without a metrics token)"},
    },
)
async def metrics(runtime: Annotated[Runtime, Depends(get_runtime)]) -> Response:
    """Prometheus text exposition: `stratcare_hook_duration_seconds` (histogram by service),
    `stratcare_hook_outcomes_total` (by service and outcome), `stratcare_prefetch_fetch_duration_seconds`
    and `stratcare_prefetch_fetches_total` (by outcome), and the write-back outbox:
    `stratcare_outbox_pending`, `stratcare_outbox_in_flight`, `stratcare_outbox_delivered_total`,
    `stratcare_outbox_dead` and `stratcare_outbox_oldest_pending_age_seconds`."""
    status = await runtime.outbox.status(utc_now())
    text = runtime.metrics.exposition() + prometheus_exposition(status)
    return Response(text, media_type=PROMETHEUS_CONTENT_TYPE)
