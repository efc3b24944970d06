"""A small OAuth 2.0 token endpoint for SMART Backend Services over real HTTP: it checks the client
assertion (signature against the registered public key, iss = sub = client id, aud = this endpoint) and
answers with the access token the FHIR test server wants."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey


class TokenEndpoint:
    def __init__(self, client_id: str, public_key: ECKey, access_token: str) -> None:
        self.client_id = client_id
        self.public_key = public_key
        self.access_token = access_token
        self.url = ""
        self.granted = 0
        self.refused: list[str] = []

    def answer(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        problem = self._problem(form)
        if problem:
            self.refused.append(problem)
            return 401, {"error": "invalid_client", "error_description": problem}
        self.granted += 1
        return 200, {"access_token": self.access_token, "token_type": "bearer", "expires_in": 300}

    def _problem(self, form: dict[str, str]) -> str | None:
        if form.get("grant_type") != "client_credentials":
            return "grant_type"
        try:
            token = jwt.decode(form.get("client_assertion", ""), self.public_key, algorithms=["ES384"])
        except (JoseError, ValueError) as error:
            return f"assertion: {error}"
        claims = token.claims
        if claims.get("iss") != self.client_id or claims.get("sub") != self.client_id:
            return "iss/sub"
        return None if claims.get("aud") == self.url else "aud"


@contextmanager
def running_token_endpoint(endpoint: TokenEndpoint) -> Iterator[TokenEndpoint]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            status, body = endpoint.answer(form)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: ARG002 - quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    endpoint.url = f"http://127.0.0.1:{server.server_address[1]}/token"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()
