from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest
from joserfc.jwk import ECKey, RSAKey

from auth.jwks_server import JwksServer
from auth.tokens import ISSUER, NOW, FakeMonotonic, jwks
from stratcare.auth import AuthSettings, InMemoryReplayGuard, IssuerConfig, JwksCache, TokenVerifier

MakeVerifier = Callable[..., TokenVerifier]


@pytest.fixture(scope="session")
def es_key() -> ECKey:
    return ECKey.generate_key("P-384", parameters={"kid": "es-1"})


@pytest.fixture(scope="session")
def rs_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "rs-1"})


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def monotonic() -> FakeMonotonic:
    return FakeMonotonic()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def issuer_config(jwks_server: JwksServer, es_key: ECKey, rs_key: RSAKey) -> IssuerConfig:
    return IssuerConfig(jwks_url=jwks_server.serve("/jwks.json", jwks(es_key, rs_key)))


@pytest.fixture
def make_verifier(http: httpx.AsyncClient, monotonic: FakeMonotonic) -> MakeVerifier:
    def make(config: IssuerConfig, **settings: object) -> TokenVerifier:
        auth = AuthSettings.model_validate({"issuers": {ISSUER: config}, **settings})
        keys = JwksCache(
            http,
            ttl_seconds=auth.jwks_cache_seconds,
            min_refetch_seconds=auth.jwks_min_refetch_seconds,
            timeout_seconds=auth.jwks_timeout_seconds,
            monotonic=monotonic,
        )
        return TokenVerifier(auth, keys, InMemoryReplayGuard(), clock=lambda: NOW)

    return make


@pytest.fixture
def verifier(make_verifier: MakeVerifier, issuer_config: IssuerConfig) -> TokenVerifier:
    return make_verifier(issuer_config)
