"""The FastAPI dependency: a bare 401 with a Bearer challenge, ``aud`` bound to the URL called."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from joserfc.jwk import ECKey

from auth.tokens import AUDIENCE, ISSUER, NOW, claims, sign
from stratcare.api.authentication import AuthenticatedRoute, ClientDep
from stratcare.api.errors import install_error_handlers
from stratcare.api.security import ClientAuthenticator, warn_auth_off
from stratcare.auth import (
    AuthSettings,
    FhirServerNotAllowed,
    InMemoryReplayGuard,
    IssuerConfig,
    VerifiedClient,
)

BASE = "http://stratcare.test"
SERVICE_PATH = "/cds-services/start-back-encounter-start"
MakeClient = Callable[..., Any]


def build_app(authenticator: ClientAuthenticator) -> FastAPI:
    """A minimal app with two CDS-style routes built as the service's authenticated routes."""
    app = FastAPI()
    app.state.runtime = SimpleNamespace(authenticator=authenticator)
    install_error_handlers(app)
    router = APIRouter(route_class=AuthenticatedRoute)

    @router.get("/cds-services")
    async def discovery(client: ClientDep) -> dict[str, str | None]:
        return {"issuer": client.issuer if client else None}

    @router.post("/cds-services/{service_id}")
    async def call(service_id: str, client: ClientDep) -> dict[str, str | None]:
        return {"service": service_id, "issuer": client.issuer if client else None}

    app.include_router(router)
    return app


@pytest.fixture
async def make_client(
    http: httpx.AsyncClient, issuer_config: IssuerConfig
) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    opened: list[httpx.AsyncClient] = []

    def make(public_base_url: str | None = None, **settings: Any) -> httpx.AsyncClient:
        auth = AuthSettings.model_validate({"issuers": {ISSUER: issuer_config}, **settings})
        authenticator = ClientAuthenticator(
            auth, http, InMemoryReplayGuard(), clock=lambda: NOW, public_base_url=public_base_url
        )
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app(authenticator)), base_url=BASE)
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.aclose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_bare_401(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.content == b""


class TestDependency:
    async def test_valid_token(self, make_client: MakeClient, es_key: ECKey) -> None:
        response = await make_client().post(SERVICE_PATH, headers=bearer(sign(es_key, "ES384", claims())))
        assert response.status_code == 200
        assert response.json() == {"service": "start-back-encounter-start", "issuer": ISSUER}

    async def test_discovery_needs_a_token_for_its_own_url(
        self, make_client: MakeClient, es_key: ECKey
    ) -> None:
        client = make_client()
        wrong = await client.get("/cds-services", headers=bearer(sign(es_key, "ES384", claims())))
        assert_bare_401(wrong)
        token = sign(es_key, "ES384", claims(aud=f"{BASE}/cds-services"))
        assert (await client.get("/cds-services", headers=bearer(token))).json() == {"issuer": ISSUER}

    async def test_the_query_string_is_not_part_of_the_audience(
        self, make_client: MakeClient, es_key: ECKey
    ) -> None:
        token = sign(es_key, "ES384", claims())
        response = await make_client().post(f"{SERVICE_PATH}?debug=1", headers=bearer(token))
        assert response.status_code == 200

    @pytest.mark.parametrize("mode", ["on", "off"])
    async def test_a_token_in_the_query_string_is_refused_in_every_mode(
        self, make_client: MakeClient, es_key: ECKey, mode: str
    ) -> None:
        token = sign(es_key, "ES384", claims())
        client = make_client(mode=mode)
        in_query = {"access_token": token}
        assert_bare_401(await client.post(SERVICE_PATH, params=in_query, headers=bearer(token)))
        assert_bare_401(await client.post(SERVICE_PATH, params={"t": token}))
        fresh = bearer(sign(es_key, "ES384", claims()))
        assert (await client.post(SERVICE_PATH, params={"tenant": "a"}, headers=fresh)).status_code == 200

    @pytest.mark.parametrize(
        "authorization",
        [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer a b", "Bearer not.a.jwt", "Token abc"],
    )
    async def test_missing_or_garbage_authorization(
        self, make_client: MakeClient, authorization: str | None
    ) -> None:
        headers = {} if authorization is None else {"Authorization": authorization}
        assert_bare_401(await make_client().post(SERVICE_PATH, headers=headers))

    async def test_two_authorization_headers(self, make_client: MakeClient, es_key: ECKey) -> None:
        token = sign(es_key, "ES384", claims())
        headers = [("Authorization", f"Bearer {token}"), ("Authorization", f"Bearer {token}")]
        assert_bare_401(await make_client().post(SERVICE_PATH, headers=headers))

    async def test_scheme_is_case_insensitive(self, make_client: MakeClient, es_key: ECKey) -> None:
        token = sign(es_key, "ES384", claims())
        response = await make_client().post(SERVICE_PATH, headers={"Authorization": f"bearer {token}"})
        assert response.status_code == 200

    async def test_replay_through_the_endpoint(self, make_client: MakeClient, es_key: ECKey) -> None:
        client, token = make_client(), sign(es_key, "ES384", claims())
        assert (await client.post(SERVICE_PATH, headers=bearer(token))).status_code == 200
        assert_bare_401(await client.post(SERVICE_PATH, headers=bearer(token)))

    async def test_reason_is_logged_but_never_the_token(
        self, make_client: MakeClient, es_key: ECKey, caplog: pytest.LogCaptureFixture
    ) -> None:
        token = sign(es_key, "ES384", claims(aud="https://elsewhere.example/cds-services"))
        with caplog.at_level(logging.INFO, logger="stratcare.api.authentication"):
            assert_bare_401(await make_client().post(SERVICE_PATH, headers=bearer(token)))
        reasons = [getattr(record, "reason", None) for record in caplog.records]
        assert reasons == ["aud is not this endpoint"]
        assert all(
            token not in record.getMessage() and token not in str(record.__dict__)
            for record in caplog.records
        )


class TestPublicBaseUrl:
    async def test_audience_is_the_public_url(self, make_client: MakeClient, es_key: ECKey) -> None:
        client = make_client(public_base_url="https://cds.example.org/stratcare/")
        public = sign(es_key, "ES384", claims(aud=f"https://cds.example.org/stratcare{SERVICE_PATH}"))
        assert (await client.post(SERVICE_PATH, headers=bearer(public))).status_code == 200
        internal = sign(es_key, "ES384", claims(aud=AUDIENCE))
        assert_bare_401(await client.post(SERVICE_PATH, headers=bearer(internal)))


class TestAuthOff:
    async def test_no_token_needed(self, make_client: MakeClient) -> None:
        response = await make_client(mode="off").post(SERVICE_PATH)
        assert response.status_code == 200
        assert response.json()["issuer"] is None

    def test_warning(self, caplog: pytest.LogCaptureFixture) -> None:
        log = logging.getLogger("stratcare.test")
        with caplog.at_level(logging.WARNING, logger="stratcare.test"):
            warn_auth_off(log)
        assert "authentication is OFF" in caplog.text


class TestFhirServerCheck:
    def authenticator(self, http: httpx.AsyncClient, **settings: Any) -> ClientAuthenticator:
        return ClientAuthenticator(
            AuthSettings.model_validate(settings), http, InMemoryReplayGuard(), clock=lambda: NOW
        )

    def test_verified_client_uses_its_issuers_list(self, http: httpx.AsyncClient) -> None:
        config = IssuerConfig(
            jwks_url="https://ehr.example.org/jwks", fhir_servers=("https://ehr.example.org/fhir",)
        )
        client = VerifiedClient(issuer=ISSUER, jti="1", issuer_config=config)
        authenticator = self.authenticator(http, fhir_server_allowlist=["https://other.example/fhir"])
        authenticator.check_fhir_server(client, "https://EHR.example.org/fhir/")
        with pytest.raises(FhirServerNotAllowed):
            authenticator.check_fhir_server(client, "https://other.example/fhir")

    def test_auth_off_uses_the_unauthenticated_allowlist(self, http: httpx.AsyncClient) -> None:
        authenticator = self.authenticator(
            http, mode="off", fhir_server_allowlist=["https://other.example/fhir"]
        )
        authenticator.check_fhir_server(None, "https://other.example/fhir")
        with pytest.raises(FhirServerNotAllowed):
            authenticator.check_fhir_server(None, "https://ehr.example.org/fhir")


async def test_the_client_is_not_read_on_a_route_that_did_not_authenticate() -> None:
    """A route outside the CDS router must not take "no client" for "authentication is off"."""
    app = FastAPI()

    @app.get("/cds-services")
    async def unprotected(client: ClientDep) -> dict[str, str | None]:
        return {"issuer": client.issuer if client else None}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        with pytest.raises(RuntimeError, match="AuthenticatedRoute"):
            await http.get("/cds-services")
