"""Authentication through the whole app: real keys, a JWKS over local HTTP, the store's replay guard."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import func, select

from api.conftest import SERVICE
from auth.jwks_server import JwksServer
from auth.tokens import jwks, sign, unsigned
from stratcare.api.app import create_app
from stratcare.settings import Settings
from stratcare.store import create_engine
from stratcare.store.schema import hook_calls
from support.cds_requests import lent_token

ISSUER = "https://ehr.example.org"
BASE = "http://stratcare.test"
ALLOWED_FHIR = "https://fhir.ehr.example.org/r4"


@pytest.fixture(scope="module")
def es_key() -> ECKey:
    return ECKey.generate_key("P-384", parameters={"kid": "ehr-es384"})


@pytest.fixture(scope="module")
def rs_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "ehr-rs384"})


@pytest.fixture
def jwks_url(es_key: ECKey, rs_key: RSAKey) -> Iterator[str]:
    server = JwksServer()
    server.start()
    yield server.serve("/jwks.json", jwks(es_key, rs_key))
    server.stop()


@pytest.fixture
def secured(tmp_path: Path, jwks_url: str) -> Settings:
    issuers = {ISSUER: {"jwks_url": jwks_url, "fhir_servers": [ALLOWED_FHIR]}}
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'auth.db'}",
        auth="on",
        jwt_issuers=issuers,
        writeback={"mode": "off"},
    )


@pytest.fixture
async def client(secured: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(secured)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=BASE) as http,
    ):
        yield http


def token(key: ECKey | RSAKey, alg: str, path: str, **overrides: Any) -> str:
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": f"{BASE}{path}", "iat": now, "exp": now + 120, "jti": str(uuid.uuid4())}
    payload.update(overrides)
    return sign(key, alg, {name: value for name, value in payload.items() if value is not None})


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


async def stored_calls(settings: Settings) -> int:
    engine = create_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            return int((await connection.execute(select(func.count()).select_from(hook_calls))).scalar_one())
    finally:
        await engine.dispose()


def assert_bare_401(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.content == b""


class TestDiscovery:
    async def test_es384_and_rs384_tokens_are_accepted(
        self, client: httpx.AsyncClient, es_key: ECKey, rs_key: RSAKey
    ) -> None:
        for key, alg in ((es_key, "ES384"), (rs_key, "RS384")):
            response = await client.get("/cds-services", headers=bearer(token(key, alg, "/cds-services")))
            assert response.status_code == 200, alg
            assert response.json()["services"]

    async def test_no_token_is_a_bare_401(self, client: httpx.AsyncClient) -> None:
        assert_bare_401(await client.get("/cds-services"))

    async def test_a_token_for_another_endpoint_is_refused(
        self, client: httpx.AsyncClient, es_key: ECKey
    ) -> None:
        wrong_audience = token(es_key, "ES384", f"/cds-services/{SERVICE}")
        assert_bare_401(await client.get("/cds-services", headers=bearer(wrong_audience)))

    async def test_a_replayed_token_is_refused(self, client: httpx.AsyncClient, es_key: ECKey) -> None:
        once = token(es_key, "ES384", "/cds-services")
        assert (await client.get("/cds-services", headers=bearer(once))).status_code == 200
        assert_bare_401(await client.get("/cds-services", headers=bearer(once)))

    async def test_alg_none_is_refused(self, client: httpx.AsyncClient) -> None:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": f"{BASE}/cds-services", "iat": now, "exp": now + 60, "jti": "n1"}
        forged = unsigned({"alg": "none", "typ": "JWT", "kid": "ehr-es384"}, claims)
        assert_bare_401(await client.get("/cds-services", headers=bearer(forged)))


class TestServiceCalls:
    async def test_unauthenticated_calls_learn_nothing_about_body_or_service(
        self, client: httpx.AsyncClient
    ) -> None:
        assert_bare_401(await client.post(f"/cds-services/{SERVICE}", content=b"{not json"))
        assert_bare_401(await client.post("/cds-services/no-such-service", json={}))
        assert_bare_401(await client.post(f"/cds-services/{SERVICE}/feedback", json={"feedback": []}))
        headers = {"Content-Type": "application/json"}
        assert_bare_401(await client.post(f"/cds-services/{SERVICE}", content=b"{not json", headers=headers))

    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("PUT", "/cds-services"),
            ("TRACE", f"/cds-services/{SERVICE}"),
            ("QUERY", "/cds-services"),
            ("GET", f"/cds-services/{SERVICE}/feedback/more"),
            ("POST", "/cds-services/"),
        ],
    )
    async def test_unauthenticated_calls_learn_nothing_about_paths_or_methods(
        self, client: httpx.AsyncClient, method: str, path: str
    ) -> None:
        assert_bare_401(await client.request(method, path))

    async def test_an_authenticated_hook_call_gets_cards(
        self, client: httpx.AsyncClient, es_key: ECKey, request_for: Any
    ) -> None:
        path = f"/cds-services/{SERVICE}"
        response = await client.post(
            path, json=request_for("high-risk"), headers=bearer(token(es_key, "ES384", path))
        )
        assert response.status_code == 200
        assert "high risk" in response.json()["cards"][0]["summary"]

    async def test_a_replayed_hook_call_is_refused_and_not_recorded(
        self, client: httpx.AsyncClient, secured: Settings, es_key: ECKey, request_for: Any
    ) -> None:
        path = f"/cds-services/{SERVICE}"
        once = bearer(token(es_key, "ES384", path))
        assert (await client.post(path, json=request_for("high-risk"), headers=once)).status_code == 200
        assert_bare_401(await client.post(path, json=request_for("high-risk"), headers=once))
        assert await stored_calls(secured) == 1

    async def test_concurrent_replays_of_a_hook_call_get_one_answer(
        self, client: httpx.AsyncClient, secured: Settings, es_key: ECKey, request_for: Any
    ) -> None:
        path = f"/cds-services/{SERVICE}"
        once = bearer(token(es_key, "ES384", path))
        calls = [client.post(path, json=request_for("high-risk"), headers=once) for _ in range(4)]
        statuses = sorted(response.status_code for response in await asyncio.gather(*calls))
        assert statuses == [200, 401, 401, 401]
        assert await stored_calls(secured) == 1

    @pytest.mark.parametrize("body", [b"{not json", b'{"hook": "encounter-start"}'])
    async def test_a_hook_call_refused_for_its_body_still_spends_its_token(
        self, client: httpx.AsyncClient, es_key: ECKey, request_for: Any, body: bytes
    ) -> None:
        path = f"/cds-services/{SERVICE}"
        once = bearer(token(es_key, "ES384", path))
        headers = {**once, "Content-Type": "application/json"}
        assert (await client.post(path, content=body, headers=headers)).status_code == 400
        assert_bare_401(await client.post(path, json=request_for("high-risk"), headers=once))

    async def test_a_hook_call_for_another_hook_still_spends_its_token(
        self, client: httpx.AsyncClient, es_key: ECKey, request_for: Any
    ) -> None:
        path = f"/cds-services/{SERVICE}"
        once = bearer(token(es_key, "ES384", path))
        wrong_hook = request_for("high-risk") | {"hook": "order-sign"}
        assert (await client.post(path, json=wrong_hook, headers=once)).status_code == 400
        assert_bare_401(await client.post(path, json=request_for("high-risk"), headers=once))

    @respx.mock(assert_all_called=False)
    async def test_a_fhir_server_off_the_allowlist_is_refused_without_any_outbound_call(
        self, client: httpx.AsyncClient, es_key: ECKey, request_for: Any, respx_mock: respx.MockRouter
    ) -> None:
        respx_mock.route(host="127.0.0.1").pass_through()  # the JWKS
        outbound = respx_mock.route()
        body = request_for("missing-data")
        body["fhirServer"] = "https://attacker.example.net/fhir"
        body["fhirAuthorization"] = lent_token("secret-ehr-token")
        path = f"/cds-services/{SERVICE}"
        response = await client.post(path, json=body, headers=bearer(token(es_key, "ES384", path)))
        assert response.status_code == 400
        assert response.json()["resourceType"] == "OperationOutcome"
        assert not outbound.called

    @respx.mock(assert_all_called=False)
    async def test_an_allowed_fhir_server_is_used_with_the_lent_token(
        self, client: httpx.AsyncClient, es_key: ECKey, request_for: Any, respx_mock: respx.MockRouter
    ) -> None:
        respx_mock.route(host="127.0.0.1").pass_through()  # the JWKS
        fhir = respx_mock.route(url__startswith=ALLOWED_FHIR).mock(
            return_value=httpx.Response(200, json={"resourceType": "Bundle", "type": "searchset", "total": 0})
        )
        body = request_for("missing-data")
        body["fhirServer"] = ALLOWED_FHIR
        body["fhirAuthorization"] = lent_token("lent-token")
        path = f"/cds-services/{SERVICE}"
        response = await client.post(path, json=body, headers=bearer(token(es_key, "ES384", path)))
        assert fhir.called
        assert all(call.request.headers["authorization"] == "Bearer lent-token" for call in fhir.calls)
        assert response.status_code in (200, 412)


@pytest.mark.postgres
async def test_a_token_replayed_to_another_replica_is_refused(
    secured: Settings, es_key: ECKey, postgres_url: str
) -> None:
    settings = secured.model_copy(update={"database_url": postgres_url})
    first, second = create_app(settings), create_app(settings)
    once = token(es_key, "ES384", "/cds-services")
    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        statuses = []
        for app in (first, second):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
                statuses.append((await http.get("/cds-services", headers=bearer(once))).status_code)
    assert statuses == [200, 401]


SANDBOX = "https://sandbox.cds-hooks.org"
SANDBOX_JKU = f"{SANDBOX}/.well-known/jwks.json"


class TestSandboxShapedTokens:
    """The public CDS Hooks sandbox signs ES384 tokens that name its key set in ``jku``."""

    @pytest.fixture
    async def offline(self, tmp_path: Path, es_key: ECKey) -> AsyncIterator[httpx.AsyncClient]:
        keys = tmp_path / "sandbox-jwks.json"
        keys.write_text(json.dumps(jwks(es_key)))
        issuers = {SANDBOX: {"jwks_file": str(keys), "jku_allowlist": [SANDBOX_JKU]}}
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'offline.db'}",
            auth="on",
            jwt_issuers=issuers,
            writeback={"mode": "off"},
        )
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url=BASE) as http,
        ):
            yield http

    @respx.mock(assert_all_called=False)
    async def test_keys_in_a_jwks_file_verify_without_fetching_the_jku(
        self,
        offline: httpx.AsyncClient,
        es_key: ECKey,
        request_for: Any,
        respx_mock: respx.MockRouter,
    ) -> None:
        sandbox_keys = respx_mock.get(SANDBOX_JKU).mock(side_effect=httpx.ConnectError("offline"))
        path = f"/cds-services/{SERVICE}"
        now = int(time.time())
        claims = {
            "iss": SANDBOX,
            "sub": "48163c5e-88b5-4cb3-92d3-23b800caa927",
            "aud": f"{BASE}{path}",
            "exp": now + 300,
            "iat": now,
            "jti": str(uuid.uuid4()),
        }
        sandbox_token = sign(es_key, "ES384", claims, jku=SANDBOX_JKU)
        response = await offline.post(path, json=request_for("high-risk"), headers=bearer(sandbox_token))
        assert response.status_code == 200
        assert "high risk" in response.json()["cards"][0]["summary"]
        assert not sandbox_keys.called
