"""The demo EHR's identity as a CDS client: its own ES384 key, published as a JWK Set file the in-process
service trusts, and a fresh signed JWT on every request (``aud`` = the exact endpoint URL), as CDS Hooks 2.0
requires of a real EHR."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Generator
from pathlib import Path

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey

DEMO_ISSUER = "https://demo-ehr.stratcare.local"
DEMO_FHIR_SERVER = "https://demo-ehr.stratcare.local/fhir"
TOKEN_LIFETIME_SECONDS = 60


class DemoEhrIdentity(httpx.Auth):
    def __init__(self, folder: Path) -> None:
        self._key = ECKey.generate_key("P-384", parameters={"kid": f"demo-{uuid.uuid4().hex[:8]}"})
        self.jwks_file = folder / "demo-ehr-jwks.json"
        self.jwks_file.write_text(json.dumps({"keys": [self._key.as_dict(private=False)]}), encoding="utf-8")

    def issuer_settings(self) -> dict[str, dict[str, object]]:
        """The ``STRATCARE_JWT_ISSUERS`` entry that makes the service trust this EHR (and its FHIR server)."""
        return {DEMO_ISSUER: {"jwks_file": str(self.jwks_file), "fhir_servers": [DEMO_FHIR_SERVER]}}

    def token(self, audience: str) -> str:
        now = int(time.time())
        claims = {
            "iss": DEMO_ISSUER,
            "sub": "demo-ehr",
            "aud": audience,
            "iat": now,
            "exp": now + TOKEN_LIFETIME_SECONDS,
            "jti": str(uuid.uuid4()),
        }
        header = {"alg": "ES384", "typ": "JWT", "kid": self._key.kid}
        return jwt.encode(header, claims, self._key, algorithms=["ES384"])

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        audience = str(request.url.copy_with(query=None, fragment=None))
        request.headers["Authorization"] = f"Bearer {self.token(audience)}"
        yield request
