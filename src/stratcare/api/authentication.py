"""The authentication edge of the CDS Hooks routes, set on their router rather than matched by path.

The CDS router builds its routes as ``AuthenticatedRoute``: each authenticates the caller before FastAPI
reads the body, resolves dependencies or looks the service up, so an unauthenticated caller learns nothing
(not even whether its JSON parses or a service exists). A route added to that router cannot opt out.
Any failure is ``Unauthorized``, which ``api.errors`` answers with ``unauthorized_response``: a bare 401
with a Bearer challenge. The reason goes to the log at INFO, never to the caller.

CORS preflight requests carry no credentials by design and are answered by the CORS layer outside the
routes. The body-size and nesting limits (``api.limits``) apply to every request before any route.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer

from stratcare.auth import Unauthorized, VerifiedClient

logger = logging.getLogger(__name__)

CLIENT_STATE_KEY = "cds_client"
BEARER_SCHEME = HTTPBearer(
    auto_error=False,
    scheme_name="cdsClientJwt",
    description="A JWT signed by a trusted CDS client (CDS Hooks 2.0, 'Trusting CDS Clients').",
)
"""Declared on the CDS router for OpenAPI; the token itself is read and verified by ``AuthenticatedRoute``."""


class AuthenticatedRoute(APIRoute):
    """A route whose every request is authenticated first (the CDS router's ``route_class``)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def authenticate_then_handle(request: Request) -> Response:
            setattr(request.state, CLIENT_STATE_KEY, await _authenticate(request))
            return await handle(request)

        return authenticate_then_handle


async def _authenticate(request: Request) -> VerifiedClient | None:
    try:
        client: VerifiedClient | None = await request.app.state.runtime.authenticator.authenticate(request)
    except Unauthorized as refusal:
        logger.info("CDS client refused", extra={"reason": refusal.reason, "path": request.url.path})
        raise
    return client


def unauthorized_response() -> Response:
    """A bare 401 with a Bearer challenge: the caller is told nothing about why."""
    return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})


async def verified_client(request: Request) -> VerifiedClient | None:
    """The client its route verified (None with authentication off)."""
    if not hasattr(request.state, CLIENT_STATE_KEY):
        # Fail loudly: on a route that did not authenticate, None would read as "authentication is off".
        raise RuntimeError("the CDS client is known only on an AuthenticatedRoute")
    client: VerifiedClient | None = getattr(request.state, CLIENT_STATE_KEY)
    return client


ClientDep = Annotated[VerifiedClient | None, Depends(verified_client)]
