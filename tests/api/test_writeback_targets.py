"""With authentication on, a call's results are queued only for its issuer's ``writeback_servers``."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey

from api.conftest import SERVICE
from auth.jwks_server import JwksServer
from auth.tokens import jwks, sign
from stratcare.api.app import create_app
from stratcare.settings import Settings

BASE = "http://stratcare.test"
WRITER, READER = "https://ehr.example.org", "https://reader.example.org"
FHIR = "https://fhir.ehr.example.org/r4"
PATH = f"/cds-services/{SERVICE}"


@pytest.fixture(scope="module")
def key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": "ehr-es256"})


@pytest.fixture
def jwks_url(key: ECKey) -> Iterator[str]:
    server = JwksServer()
    server.start()
    yield server.serve("/jwks.json", jwks(key))
    server.stop()


@pytest.fixture
async def client(tmp_path: Path, jwks_url: str) -> AsyncIterator[httpx.AsyncClient]:
    issuers = {
        WRITER: {"jwks_url": jwks_url, "fhir_servers": [FHIR], "writeback_servers": [FHIR]},
        READER: {"jwks_url": jwks_url, "fhir_servers": [FHIR]},
    }
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'targets.db'}",
        auth="on",
        jwt_issuers=issuers,
        writeback={"run_in_process": False},
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http,
    ):
        yield http


def bearer(key: ECKey, issuer: str, path: str) -> dict[str, str]:
    now = int(time.time())
    claims = {"iss": issuer, "aud": f"{BASE}{path}", "iat": now, "exp": now + 120, "jti": str(uuid.uuid4())}
    return {"Authorization": f"Bearer {sign(key, 'ES256', claims)}"}


async def pending(client: httpx.AsyncClient) -> int:
    count: int = (await client.get("/health")).json()["outbox"]["pending"]
    return count


async def call(client: httpx.AsyncClient, key: ECKey, issuer: str, body: dict[str, Any]) -> None:
    response = await client.post(PATH, json=body | {"fhirServer": FHIR}, headers=bearer(key, issuer, PATH))
    assert response.status_code == 200, response.text
    assert response.json()["cards"]


async def test_only_the_issuer_configured_for_write_back_queues_writes(
    client: httpx.AsyncClient, key: ECKey, request_for: Any
) -> None:
    await call(client, key, READER, request_for("high-risk"))
    assert await pending(client) == 0, "the reader may name the server, not write to it"

    await call(client, key, WRITER, request_for("high-risk"))
    assert await pending(client) == 2

    health = (await client.get("/health")).json()["writeback"]
    assert health["issuers"] == {WRITER: [FHIR]}
