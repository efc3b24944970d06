"""The app over ASGI with report access configured, its store seeded with tests/reports/seed.py."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from joserfc.jwk import RSAKey
from joserfc.jws import serialize_compact

from stratcare.api.app import create_app
from stratcare.reports.settings import ReportSettings
from stratcare.settings import Settings

from .seed import seed_clinics

ADMIN_TOKEN = "admin-token-for-tests-0123456789"
ISSUER = "https://login.example.org/realms/clinics"
JWKS_URL = f"{ISSUER}/protocol/openid-connect/certs"
AUDIENCE = "stratcare-reports"
SIGNING_KEY = RSAKey.generate_key(2048, parameters={"kid": "reports-1", "use": "sig"})
OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "reports-1", "use": "sig"})


def report_settings(**changes: Any) -> ReportSettings:
    values: dict[str, Any] = {
        "admin_token": ADMIN_TOKEN,
        "oidc_issuer": ISSUER,
        "oidc_audience": AUDIENCE,
        "oidc_jwks_url": JWKS_URL,
        "pseudonym_key": "pseudonym-key-for-tests",
    }
    return ReportSettings(**{**values, **changes})


def user_token(key: RSAKey = SIGNING_KEY, **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "iat": now, "exp": now + 300, **claims}
    payload = {name: value for name, value in payload.items() if value is not None}
    header = {"alg": "RS256", "typ": "at+jwt", "kid": key.kid}
    return serialize_compact(header, json.dumps(payload).encode(), key)


def jwks_document() -> dict[str, Any]:
    return {"keys": [SIGNING_KEY.as_dict(private=False)]}


@asynccontextmanager
async def report_client(tmp_path: Path, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'store.db'}",
        auth="off",
        reports=report_settings(**changes),
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await seed_clinics(app.state.runtime.database)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://stratcare.test") as http:
            yield http
