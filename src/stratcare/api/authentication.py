"""Authenticates every CDS Hooks call before its body is read, so an unauthenticated caller learns nothing
(not even whether its JSON parses or a service exists): a failure is a bare 401 with a Bearer challenge.

CORS preflight requests carry no credentials by design and are answered by the CORS layer outside this one.

A hook call's token use (its ``jti``) is recorded with the call's own writes, in one transaction (see
``store.group_commit``): the router takes it over (``unspent_token``). Whatever else answers the request
(an invalid body, an unknown route) answers only after the use is recorded here, and a replayed token
is then answered 401 instead. Either way, no answer leaves before the token is spent.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stratcare.api.security import ClientAuthenticator
from stratcare.auth import Unauthorized, VerifiedClient
from stratcare.auth.replay import TokenUse

logger = logging.getLogger(__name__)

PROTECTED_PREFIX = "/cds-services"
CLIENT_STATE_KEY = "cds_client"
DEFERRED_STATE_KEY = "cds_token_use"
ARRIVED_STATE_KEY = "arrived_at"
"""When the request reached the service, on the event loop's clock: a hook call's deadline starts there."""
BEARER_SCHEME = HTTPBearer(
    auto_error=False,
    scheme_name="cdsClientJwt",
    description="A JWT signed by a trusted CDS client (CDS Hooks 2.0, 'Trusting CDS Clients').",
)


class AuthenticationMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _protected(scope):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state[ARRIVED_STATE_KEY] = asyncio.get_running_loop().time()
        request = Request(scope)
        authenticator: ClientAuthenticator = request.app.state.runtime.authenticator
        try:
            client = await authenticator.authenticate(request, defer_spending=_hook_call(scope))
        except Unauthorized as exc:
            logger.info("CDS client refused", extra={"reason": exc.reason, "path": request.url.path})
            await _unauthorized(send)
            return
        state[CLIENT_STATE_KEY] = client
        if client is not None and client.unspent is not None:
            deferred = _DeferredUse(client.unspent)
            state[DEFERRED_STATE_KEY] = deferred
            send = _spending_before_answer(send, deferred, authenticator, request.url.path)
        await self.app(scope, receive, send)


@dataclass
class _DeferredUse:
    use: TokenUse
    taken_over: bool = False
    """Set when the router hands the use to the hook call, whose writes record it."""


def unspent_token(request: Request) -> TokenUse | None:
    """The hook call's token use, for the call to record with its writes (it is then its to record)."""
    deferred: _DeferredUse | None = getattr(request.state, DEFERRED_STATE_KEY, None)
    if deferred is None or deferred.taken_over:
        return None
    deferred.taken_over = True
    return deferred.use


def _spending_before_answer(
    send: Send, deferred: _DeferredUse, authenticator: ClientAuthenticator, path: str
) -> Send:
    refused = False

    async def send_after_spending(message: Message) -> None:
        nonlocal refused
        if refused:
            return
        if message["type"] == "http.response.start" and not deferred.taken_over:
            deferred.taken_over = True
            if not await authenticator.spend(deferred.use):
                refused = True
                logger.info("CDS client refused", extra={"reason": "jti already used", "path": path})
                await _unauthorized(send)
                return
        await send(message)

    return send_after_spending


def _protected(scope: Scope) -> bool:
    path: str = scope["path"]
    return scope["method"] != "OPTIONS" and (
        path == PROTECTED_PREFIX or path.startswith(PROTECTED_PREFIX + "/")
    )


def _hook_call(scope: Scope) -> bool:
    """A POST to one service (``/cds-services/{id}``): its token use is recorded with the call's writes."""
    path: str = scope["path"]
    service = path.removeprefix(PROTECTED_PREFIX + "/")
    return scope["method"] == "POST" and service != path and service != "" and "/" not in service


async def _unauthorized(send: Send) -> None:
    headers = [(b"www-authenticate", b"Bearer"), (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 401, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def verified_client(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER_SCHEME)],
) -> VerifiedClient | None:
    """The client the middleware verified (None with authentication off); declares the scheme in OpenAPI."""
    client: VerifiedClient | None = getattr(request.state, CLIENT_STATE_KEY, None)
    return client


ClientDep = Annotated[VerifiedClient | None, Depends(verified_client)]
