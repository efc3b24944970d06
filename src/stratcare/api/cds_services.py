"""CDS Hooks endpoints: discovery, service calls and feedback. Parsing only; the work is elsewhere."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.routing import Match

from stratcare.api.authentication import (
    ARRIVED_STATE_KEY,
    BEARER_SCHEME,
    AuthenticatedRoute,
    ClientDep,
    records_its_token_use,
    unspent_token,
)
from stratcare.api.responses import model_response
from stratcare.api.runtime import Runtime, get_runtime
from stratcare.api.schemas import ERROR_RESPONSES, OperationOutcome
from stratcare.api.security import endpoint_url, warn_auth_off
from stratcare.cdshooks.models import (
    DiscoveryResponse,
    FeedbackRequest,
    HookRequest,
    HookResponse,
)
from stratcare.engine.feedback import FeedbackReceipt
from stratcare.observability.metrics import UNKNOWN_SERVICE

logger = logging.getLogger(__name__)


router = APIRouter(tags=["CDS Hooks"], route_class=AuthenticatedRoute, dependencies=[Depends(BEARER_SCHEME)])
"""Every CDS Hooks route authenticates its caller first (``api.authentication``)."""
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
ServiceIdPath = Annotated[str, Path(description="The CDS service id from discovery", max_length=64)]


@router.get("/cds-services", response_model=DiscoveryResponse, responses=ERROR_RESPONSES)
async def discovery(runtime: RuntimeDep, client: ClientDep) -> Response:
    """List the CDS services this server offers (CDS Hooks 2.0 discovery)."""
    if client is None:
        warn_auth_off(logger)
    return model_response(runtime.discovery())


@router.post(
    "/cds-services/{service_id}",
    response_model=HookResponse,
    responses={
        **ERROR_RESPONSES,
        412: {
            "model": OperationOutcome,
            "description": "Needed prefetch data could not be obtained",
        },
        503: {
            "model": OperationOutcome,
            "description": "The call could not be recorded within its deadline; nothing was answered",
        },
    },
)
@records_its_token_use
async def call_service(
    service_id: ServiceIdPath, body: HookRequest, request: Request, runtime: RuntimeDep, client: ClientDep
) -> Response:
    """Evaluate the service for one hook call and answer with cards."""
    known = any(service.id == service_id for service in runtime.registry.all())
    with runtime.metrics.hook_call(service_id if known else UNKNOWN_SERVICE) as meter:
        if body.fhirServer is not None:
            runtime.authenticator.check_fhir_server(client, str(body.fhirServer))
        public_base_url = runtime.settings.public_base_url
        endpoint = endpoint_url(request, str(public_base_url) if public_base_url else None)
        issuer = client.issuer if client is not None else None
        response = await runtime.hooks.run(
            service_id,
            body,
            endpoint_url=endpoint,
            issuer=issuer,
            token=unspent_token(request),
            arrived_at=getattr(request.state, ARRIVED_STATE_KEY, None),
        )
        meter.outcome = "cards" if response.cards else "no-cards"
    return model_response(response)


@router.post(
    "/cds-services/{service_id}/feedback",
    response_model=FeedbackReceipt,
    response_model_exclude_none=True,
    responses=ERROR_RESPONSES,
)
async def feedback(
    service_id: ServiceIdPath,
    body: FeedbackRequest,
    runtime: RuntimeDep,
) -> FeedbackReceipt:
    """Record what the user did with cards this service returned (accepted or overridden).

    Each item is judged on its own: an item on a card this service issued is stored once (a repeat is a
    `duplicate`); an item on an unknown card, on a card another service issued, or naming a suggestion the
    card did not offer is `refused` with a reason, and the other items are still stored. A well-formed batch
    is therefore always `200`, with one result per item in request order; a body that does not follow the
    CDS Hooks feedback schema is a `400` and nothing in it is stored.
    """
    return await runtime.feedback.receive(service_id, body)


UNROUTED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "TRACE", "CONNECT", "QUERY"]
"""The methods of RFC 9110, PATCH and QUERY; not OPTIONS, which CORS preflights send without credentials."""


@router.api_route("/cds-services/{rest:path}", methods=UNROUTED_METHODS, include_in_schema=False)
@router.api_route("/cds-services", methods=UNROUTED_METHODS, include_in_schema=False)
async def unrouted(request: Request, rest: str = "") -> RedirectResponse:
    """Anything else under ``/cds-services``, authenticated like the routes above: an unauthenticated caller
    gets the same bare 401 and learns nothing of which paths and methods exist. Then what the router itself
    would answer: 405 for a known path, a redirect for a trailing slash, else 404."""
    allowed = sorted(
        method
        for route in router.routes
        if isinstance(route, APIRoute)
        and route.endpoint is not unrouted
        and route.matches(request.scope)[0] is Match.PARTIAL
        for method in route.methods or ()
    )
    if allowed:
        raise HTTPException(status_code=405, headers={"Allow": ", ".join(allowed)})
    if not rest:  # "/cds-services/": the router's redirect_slashes
        return RedirectResponse(request.url.replace(path=request.url.path.rstrip("/")), status_code=307)
    raise HTTPException(status_code=404)
