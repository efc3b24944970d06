"""Write-back to a FHIR server that wants a bearer token: the hook's lent token on the first attempt, and
stratcare's own SMART Backend Services token when there is no lent token (or it has expired)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from joserfc.jwk import ECKey

from stratcare.settings import Settings
from support.cds_requests import lent_token
from support.fhir_server import FhirTestServer, running_fhir_server

from .conftest import (
    call_hook,
    high_risk_request,
    make_settings,
    of_patient,
    patient_of,
    running_app,
    wait_for_delivery,
)
from .token_server import TokenEndpoint, running_token_endpoint

pytestmark = pytest.mark.integration

SERVER_TOKEN = "server-token-7f3a"
CLIENT_ID = "stratcare-writeback"
WRITE_SCOPE = "patient/Observation.write patient/RiskAssessment.write"


@pytest.fixture(scope="module")
def protected_server() -> Iterator[FhirTestServer]:
    with running_fhir_server(bearer_token=SERVER_TOKEN) as server:
        if not server.can_restart:
            pytest.skip("needs the local FHIR test server (it checks a bearer token of our choosing)")
        yield server


@pytest.fixture
def signing_key(tmp_path: Path) -> tuple[ECKey, Path]:
    key = ECKey.generate_key("P-384", parameters={"kid": "stratcare-1"})
    path = tmp_path / "backend-key.json"
    path.write_text(json.dumps(key.as_dict(private=True)), encoding="utf-8")
    return key, path


@pytest.fixture
def token_endpoint(signing_key: tuple[ECKey, Path]) -> Iterator[TokenEndpoint]:
    key, _ = signing_key
    public = ECKey.import_key(key.as_dict(private=False))
    with running_token_endpoint(TokenEndpoint(CLIENT_ID, public, SERVER_TOKEN)) as endpoint:
        yield endpoint


def backend_settings(
    database_url: str, server: FhirTestServer, endpoint: TokenEndpoint, key_file: Path
) -> Settings:
    return make_settings(
        database_url,
        writeback={
            "ehr_base_url": server.base_url,
            "backend_client_id": CLIENT_ID,
            "backend_token_url": endpoint.url,
            "backend_private_key_file": str(key_file),
            "backend_key_id": "stratcare-1",
            "backend_algorithm": "ES384",
        },
    )


async def written(server: FhirTestServer, patient: str) -> dict[str, int]:
    headers = {"Accept": "application/fhir+json", **server.auth_headers()}
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=10.0) as http:
        return {
            kind: len(await of_patient(http, kind, patient)) for kind in ("Observation", "RiskAssessment")
        }


async def test_the_lent_token_carries_the_first_attempt(
    sqlite_url: str, protected_server: FhirTestServer
) -> None:
    lent = lent_token(SERVER_TOKEN, scope=WRITE_SCOPE)
    body = high_risk_request(protected_server) | {"fhirAuthorization": lent}
    async with running_app(make_settings(sqlite_url, writes_to=[protected_server])) as client:
        assert (await call_hook(client, body)).status_code == 200
        await wait_for_delivery(client, 2)
    assert await written(protected_server, patient_of(body)) == {"Observation": 3, "RiskAssessment": 1}


async def test_without_a_lent_token_stratcare_uses_its_backend_services_token(
    sqlite_url: str,
    protected_server: FhirTestServer,
    token_endpoint: TokenEndpoint,
    signing_key: tuple[ECKey, Path],
) -> None:
    body = high_risk_request(protected_server)
    body.pop("fhirAuthorization", None)
    del body["fhirServer"]  # results go to the configured EHR base URL
    settings = backend_settings(sqlite_url, protected_server, token_endpoint, signing_key[1])
    async with running_app(settings) as client:
        assert (await call_hook(client, body)).status_code == 200
        await wait_for_delivery(client, 2)
    assert token_endpoint.refused == []
    assert token_endpoint.granted >= 1
    assert await written(protected_server, patient_of(body)) == {"Observation": 3, "RiskAssessment": 1}


async def test_an_expired_lent_token_gives_way_to_the_backend_token(
    sqlite_url: str,
    protected_server: FhirTestServer,
    token_endpoint: TokenEndpoint,
    signing_key: tuple[ECKey, Path],
) -> None:
    stale = lent_token("stale-token", expires_in=0, scope=WRITE_SCOPE)
    body = high_risk_request(protected_server) | {"fhirAuthorization": stale}
    settings = backend_settings(sqlite_url, protected_server, token_endpoint, signing_key[1])
    async with running_app(settings) as client:
        assert (await call_hook(client, body)).status_code == 200
        await wait_for_delivery(client, 2)
    assert token_endpoint.granted >= 1
    assert await written(protected_server, patient_of(body)) == {"Observation": 3, "RiskAssessment": 1}
