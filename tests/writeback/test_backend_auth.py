"""SMART Backend Services: a signed client assertion, a cached token, errors that say what can be retried."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx
from joserfc import jwt
from joserfc.jwk import ECKey

from stratcare.errors import EhrError, EhrTechnicalError
from stratcare.writeback.backend_auth import ASSERTION_TYPE, BackendServicesConfig, BackendServicesToken

TOKEN_URL = "https://ehr.example.org/oauth2/token"


@pytest.fixture
def key(tmp_path: Path) -> tuple[ECKey, Path]:
    private = ECKey.generate_key("P-384")
    path = tmp_path / "key.json"
    path.write_text(json.dumps(private.as_dict(private=True)))
    return private, path


def provider(path: Path, clock: list[float]) -> tuple[BackendServicesToken, httpx.AsyncClient]:
    http = httpx.AsyncClient()
    config = BackendServicesConfig(
        token_url=TOKEN_URL, client_id="stratcare", private_key_file=path, key_id="k1", algorithm="ES384"
    )
    return BackendServicesToken(config, http, clock=lambda: clock[0], new_jti=lambda: "jti-1"), http


@respx.mock
async def test_the_assertion_is_signed_and_names_client_and_endpoint(key: tuple[ECKey, Path]) -> None:
    private, path = key
    route = respx.post(TOKEN_URL).mock(
        return_value=httpx.Response(
            200, json={"access_token": "abc", "expires_in": 300, "token_type": "bearer"}
        )
    )
    token_provider, http = provider(path, [1_000_000.0])
    async with http:
        token = await token_provider.token()
    assert token.get_secret_value() == "abc"
    form = dict(httpx.QueryParams(route.calls.last.request.content.decode()))
    assert form["grant_type"] == "client_credentials"
    assert form["client_assertion_type"] == ASSERTION_TYPE
    decoded = jwt.decode(form["client_assertion"], private, algorithms=["ES384"])
    assert decoded.header == {"alg": "ES384", "kid": "k1", "typ": "JWT"}
    assert decoded.claims["iss"] == decoded.claims["sub"] == "stratcare"
    assert decoded.claims["aud"] == TOKEN_URL
    assert decoded.claims["exp"] - decoded.claims["iat"] == 300


@respx.mock
async def test_the_token_is_cached_until_shortly_before_expiry(key: tuple[ECKey, Path]) -> None:
    route = respx.post(TOKEN_URL).mock(
        return_value=httpx.Response(200, json={"access_token": "abc", "expires_in": 300})
    )
    clock = [1_000_000.0]
    token_provider, http = provider(key[1], clock)
    async with http:
        await token_provider.token()
        clock[0] += 200
        await token_provider.token()
        assert route.call_count == 1
        clock[0] += 100
        await token_provider.token()
    assert route.call_count == 2


@respx.mock
@pytest.mark.parametrize(("status", "technical"), [(503, True), (429, True), (401, False)])
async def test_token_endpoint_errors(key: tuple[ECKey, Path], status: int, technical: bool) -> None:
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(status))
    token_provider, http = provider(key[1], [1_000_000.0])
    async with http:
        with pytest.raises(EhrError) as caught:
            await token_provider.token()
    assert isinstance(caught.value, EhrTechnicalError) is technical
