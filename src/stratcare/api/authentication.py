"""Authenticates every CDS Hooks call before its body is read, so an unauthenticated caller learns nothing
(not even whether its JSON parses or a service exists): a failure is a bare 401 with a Bearer challenge.

CORS preflight requests carry no credentials by design and are answered by the CORS layer outside this one.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Receive, Scope, Send

from stratcare.auth import Unauthorized, VerifiedClient

logger = logging.getLogger(__name__)

PROTECTED_PREFIX = "/cds-services"
CLIENT_STATE_KEY = "cds_client"
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
        request = Request(scope)
        try:
            client = await request.app.state.runtime.authenticator.authenticate(request)
        except Unauthorized as exc:
            logger.info("CDS client refused", extra={"reason": exc.reason, "path": request.url.path})
            await _unauthorized(send)
            return
        scope.setdefault("state", {})[CLIENT_STATE_KEY] = client
        await self.app(scope, receive, send)


def _protected(scope: Scope) -> bool:
    path: str = scope["path"]
    return scope["method"] != "OPTIONS" and (
        path == PROTECTED_PREFIX or path.startswith(PROTECTED_PREFIX + "/")
    )


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
