"""The authentication edge of the CDS Hooks routes, set on their router rather than matched by path.

The CDS router builds its routes as ``AuthenticatedRoute``: each authenticates the caller before FastAPI
reads the body, resolves dependencies or looks the service up, so an unauthenticated caller learns nothing
(not even whether its JSON parses or a service exists). A route added to that router cannot opt out.
Any failure is ``Unauthorized``, which ``api.errors`` answers with ``unauthorized_response``: a bare 401
with a Bearer challenge. The reason goes to the log at INFO, never to the caller.

CORS preflight requests carry no credentials by design and are answered by the CORS layer outside the
routes. The body-size and nesting limits (``api.limits``) apply to every request before any route.

A hook call's token use (its ``jti``) is recorded with the call's own writes, in one transaction (see
``store.group_commit``): its endpoint is marked ``records_its_token_use`` and takes the use over
(``unspent_token``). Should the request end otherwise (an invalid body, an error before anything is
recorded), the route records the use itself before the answer leaves, and answers 401 instead when the
token had been used before. Either way no answer leaves before the token is spent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer

from stratcare.auth import Unauthorized, VerifiedClient
from stratcare.auth.replay import TokenUse

logger = logging.getLogger(__name__)

CLIENT_STATE_KEY = "cds_client"
DEFERRED_STATE_KEY = "cds_token_use"
ARRIVED_STATE_KEY = "arrived_at"
"""When the request reached its route, on the event loop's clock: a hook call's deadline starts there."""
RECORDS_TOKEN_USE = "_stratcare_records_token_use"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
BEARER_SCHEME = HTTPBearer(
    auto_error=False,
    scheme_name="cdsClientJwt",
    description="A JWT signed by a trusted CDS client (CDS Hooks 2.0, 'Trusting CDS Clients').",
)
"""Declared on the CDS router for OpenAPI; the token itself is read and verified by ``AuthenticatedRoute``."""


def records_its_token_use(endpoint: Endpoint) -> Endpoint:
    """Mark an endpoint that records its caller's token use with its own writes (``unspent_token``)."""
    setattr(endpoint, RECORDS_TOKEN_USE, True)
    return endpoint


class AuthenticatedRoute(APIRoute):
    """A route whose every request is authenticated first (the CDS router's ``route_class``)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        defer = getattr(self.endpoint, RECORDS_TOKEN_USE, False)

        async def authenticate_then_handle(request: Request) -> Response:
            setattr(request.state, ARRIVED_STATE_KEY, asyncio.get_running_loop().time())
            client = await _authenticate(request, defer)
            setattr(request.state, CLIENT_STATE_KEY, client)
            if client is None or client.unspent is None:
                return await handle(request)
            deferred = _DeferredUse(client.unspent)
            setattr(request.state, DEFERRED_STATE_KEY, deferred)
            try:
                response = await handle(request)
            except Unauthorized as refusal:  # found when the call's writes committed
                logger.info("CDS client refused", extra={"reason": refusal.reason, "path": request.url.path})
                raise
            except BaseException:
                await _spend_unless_taken(request, deferred)
                raise
            await _spend_unless_taken(request, deferred)
            return response

        return authenticate_then_handle


@dataclass
class _DeferredUse:
    use: TokenUse
    taken_over: bool = False
    """Set once the endpoint took the use over (its writes record it) or it was recorded here."""


def unspent_token(request: Request) -> TokenUse | None:
    """The caller's token use, for a ``records_its_token_use`` endpoint to record with its writes; from then
    on it is the endpoint's to record, on every path."""
    deferred: _DeferredUse | None = getattr(request.state, DEFERRED_STATE_KEY, None)
    if deferred is None or deferred.taken_over:
        return None
    deferred.taken_over = True
    return deferred.use


async def _spend_unless_taken(request: Request, deferred: _DeferredUse) -> None:
    if deferred.taken_over:
        return
    deferred.taken_over = True
    if not await request.app.state.runtime.authenticator.spend(deferred.use):
        logger.info("CDS client refused", extra={"reason": "jti already used", "path": request.url.path})
        raise Unauthorized("jti already used")


async def _authenticate(request: Request, defer: bool) -> VerifiedClient | None:
    authenticator = request.app.state.runtime.authenticator
    try:
        client: VerifiedClient | None = await authenticator.authenticate(request, defer_spending=defer)
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
