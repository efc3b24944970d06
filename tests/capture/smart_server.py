"""A tiny SMART authorization server for tests: discovery, the authorize redirect and the token endpoint.

It checks what a real one checks for an EHR launch with PKCE: the client, the redirect URI, the ``launch``
and ``aud`` parameters, the S256 challenge against the verifier, and that a code is used once.

With ``fhir_upstream`` it is also the EHR's FHIR endpoint, as a real EHR's ``iss`` is: every other request
under ``/fhir`` is passed to that FHIR server (the local test server), with its credentials.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route


@dataclass
class SmartServer:
    client_id: str
    patient: str
    encounter: str
    app_context: dict[str, Any] | str
    """The appContext the EHR hands over: a JSON object, or the exact string a card's link carried."""
    launch: str = "launch-123"
    base_url: str = ""
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    seen_authorize: list[dict[str, str]] = field(default_factory=list)
    fhir_upstream: str | None = None
    fhir_headers: dict[str, str] = field(default_factory=dict)

    @property
    def iss(self) -> str:
        return f"{self.base_url}/fhir"

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/fhir/.well-known/smart-configuration", self.configuration),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
                Route("/fhir", self.fhir, methods=["GET", "POST"]),
                Route("/fhir/{path:path}", self.fhir, methods=["GET", "POST", "PUT"]),
            ]
        )

    async def fhir(self, request: Request) -> Response:
        if self.fhir_upstream is None:
            return JSONResponse({"resourceType": "OperationOutcome"}, status_code=404)
        path = request.url.path.removeprefix("/fhir")
        headers = {
            key: value
            for key, value in request.headers.items()
            if key.lower() in ("accept", "content-type", "if-none-exist", "prefer")
        }
        async with httpx.AsyncClient(timeout=20) as client:
            answer = await client.request(
                request.method,
                self.fhir_upstream.rstrip("/") + path,
                params=list(request.query_params.multi_items()),
                content=await request.body(),
                headers=headers | self.fhir_headers,
            )
        kept = {k: v for k, v in answer.headers.items() if k.lower() in ("content-type", "location", "etag")}
        return Response(answer.content, status_code=answer.status_code, headers=kept)

    async def configuration(self, request: Request) -> Response:  # noqa: ARG002
        return JSONResponse(
            {
                "authorization_endpoint": f"{self.base_url}/authorize",
                "token_endpoint": f"{self.base_url}/token",
                "code_challenge_methods_supported": ["S256"],
                "capabilities": [
                    "launch-ehr",
                    "client-public",
                    "context-ehr-patient",
                    "context-ehr-encounter",
                ],
            }
        )

    async def authorize(self, request: Request) -> Response:
        query = dict(request.query_params)
        self.seen_authorize.append(query)
        problems = [
            query.get("response_type") != "code",
            query.get("client_id") != self.client_id,
            query.get("launch") != self.launch,
            query.get("aud") != self.iss,
            query.get("code_challenge_method") != "S256",
            not query.get("code_challenge"),
            not query.get("state"),
        ]
        if any(problems):
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"challenge": query["code_challenge"], "redirect_uri": query["redirect_uri"]}
        return RedirectResponse(
            f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
        )

    async def token(self, request: Request) -> Response:
        form = {key: str(value) for key, value in (await request.form()).items()}
        issued = self.codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if (
            issued is None
            or form.get("grant_type") != "authorization_code"
            or form.get("client_id") != self.client_id
            or form.get("redirect_uri") != issued["redirect_uri"]
            or digest != issued["challenge"]
        ):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(24),
                "token_type": "Bearer",
                "expires_in": 300,
                "scope": "launch patient/QuestionnaireResponse.cu",
                "patient": self.patient,
                "encounter": self.encounter,
                "appContext": (
                    self.app_context if isinstance(self.app_context, str) else json.dumps(self.app_context)
                ),
            }
        )


@contextmanager
def running_smart_server(server: SmartServer) -> Iterator[SmartServer]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server.base_url = f"http://127.0.0.1:{port}"
    config = uvicorn.Config(server.app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the SMART test server did not start")
        time.sleep(0.02)
    try:
        yield server
    finally:
        running.should_exit = True
        thread.join(timeout=10)
