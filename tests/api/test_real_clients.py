"""Real clients' requests through the service as `stratcare serve` runs it: tokens in the query string are
refused and never logged, and forwarded headers change the token audience only from trusted proxies."""

from __future__ import annotations

import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey

from api.conftest import SERVICE
from api.served import ISSUER, secured_environment, served
from auth.tokens import sign
from stratcare.api.runtime import open_runtime
from stratcare.settings import Settings

DISCOVERY = "/cds-services"
# A generous client timeout: these run a real server in-process, and a busy machine must not fail them.
LOADED_MACHINE_TIMEOUT = 30.0


@pytest.fixture(scope="module")
def key() -> ECKey:
    return ECKey.generate_key("P-384", parameters={"kid": "ehr"})


def token_for(key: ECKey, audience: str) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": audience, "iat": now, "exp": now + 120, "jti": str(uuid.uuid4())}
    return sign(key, "ES384", claims)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestTokensInTheQueryString:
    @pytest.mark.parametrize("parameter", ["access_token", "token", "state"])
    async def test_is_refused_never_logged_and_spent(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, key: ECKey, parameter: str
    ) -> None:
        async with served(monkeypatch, secured_environment(tmp_path, key)) as service:
            token = token_for(key, f"{service.url}{DISCOVERY}")
            async with httpx.AsyncClient(base_url=service.url, timeout=LOADED_MACHINE_TIMEOUT) as http:
                in_query = await http.get(DISCOVERY, params={parameter: token, "debug": "yes-7731"})
                replayed = await http.get(DISCOVERY, headers=bearer(token))
                fresh = await http.get(DISCOVERY, headers=bearer(token_for(key, f"{service.url}{DISCOVERY}")))
            lines = service.log_lines()
        assert in_query.status_code == 401
        assert in_query.content == b""
        assert replayed.status_code == 401, "a token shown in a URL must not be usable afterwards"
        assert fresh.status_code == 200
        access = [json.loads(line) for line in lines if json.loads(line)["logger"] == "uvicorn.access"]
        assert len(access) == 3
        assert all(f"GET {DISCOVERY} HTTP/1.1" in record["message"] for record in access)
        for line in lines:
            for secret in (token, *token.split("."), "yes-7731", parameter + "="):
                assert secret not in line, f"the query string leaks into the log: {line}"
        reasons = [json.loads(line).get("reason") for line in lines]
        assert "token in the query string" in reasons

    async def test_a_forged_token_in_the_query_spends_nothing(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, key: ECKey
    ) -> None:
        forger = ECKey.generate_key("P-384", parameters={"kid": "ehr"})
        async with served(monkeypatch, secured_environment(tmp_path, key)) as service:
            audience = f"{service.url}/cds-services/{SERVICE}"
            now = int(time.time())
            claims = {"iss": ISSUER, "aud": audience, "iat": now, "exp": now + 120, "jti": "shared-jti"}
            forged, genuine = sign(forger, "ES384", claims), sign(key, "ES384", claims)
            async with httpx.AsyncClient(base_url=service.url, timeout=LOADED_MACHINE_TIMEOUT) as http:
                path = f"/cds-services/{SERVICE}/feedback"
                refused = await http.post(path, params={"access_token": forged}, json={"feedback": []})
                after = await http.post(
                    f"/cds-services/{SERVICE}", json={}, headers=bearer(genuine), params={"x": "1"}
                )
        assert refused.status_code == 401
        assert after.status_code == 400  # authenticated (jti unspent), then the empty body is refused


class TestAudienceBehindProxies:
    async def test_forwarded_headers_from_an_untrusted_peer_never_change_the_audience(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, key: ECKey
    ) -> None:
        """The peer is 127.0.0.1, which uvicorn trusts by default; nothing is trusted unless configured."""
        async with served(monkeypatch, secured_environment(tmp_path, key)) as service:
            forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "stratcare.example.org"}
            https_url = service.url.replace("http://", "https://")
            async with httpx.AsyncClient(base_url=service.url, timeout=LOADED_MACHINE_TIMEOUT) as http:
                for audience in (f"{https_url}{DISCOVERY}", f"https://stratcare.example.org{DISCOVERY}"):
                    headers = bearer(token_for(key, audience)) | forwarded
                    assert (await http.get(DISCOVERY, headers=headers)).status_code == 401, audience
                as_connected = bearer(token_for(key, f"{service.url}{DISCOVERY}")) | forwarded
                assert (await http.get(DISCOVERY, headers=as_connected)).status_code == 200

    async def test_a_trusted_proxy_sets_the_scheme_but_never_the_host(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, key: ECKey
    ) -> None:
        environment = secured_environment(tmp_path, key, STRATCARE_TRUSTED_PROXIES='["127.0.0.1"]')
        async with served(monkeypatch, environment) as service:
            https_url = service.url.replace("http://", "https://")
            async with httpx.AsyncClient(base_url=service.url, timeout=LOADED_MACHINE_TIMEOUT) as http:
                proto = {"X-Forwarded-Proto": "https"}
                via_proxy = bearer(token_for(key, f"{https_url}{DISCOVERY}")) | proto
                assert (await http.get(DISCOVERY, headers=via_proxy)).status_code == 200
                other_host = {**proto, "X-Forwarded-Host": "elsewhere.example.org"}
                elsewhere = bearer(token_for(key, f"https://elsewhere.example.org{DISCOVERY}")) | other_host
                assert (await http.get(DISCOVERY, headers=elsewhere)).status_code == 401


class TestTrustedProxiesSetting:
    @pytest.mark.parametrize("value", ['["10.0.0.5"]', '["10.0.0.0/24", "::1"]', "[]"])
    def test_addresses_and_networks_are_accepted(self, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("STRATCARE_TRUSTED_PROXIES", value)
        assert list(Settings().trusted_proxies) == json.loads(value)

    @pytest.mark.parametrize("value", ['["*"]', '["proxy.internal"]', '["10.0.0.1/24"]'])
    def test_anything_else_is_refused(self, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("STRATCARE_TRUSTED_PROXIES", value)
        with pytest.raises(ValueError, match="not an IP address or network"):
            Settings()

    def test_none_are_trusted_by_default(self) -> None:
        assert Settings().trusted_proxies == ()


class TestAudienceWarning:
    async def _warnings(self, caplog: pytest.LogCaptureFixture, **settings: Any) -> list[str]:
        with caplog.at_level(logging.WARNING, logger="stratcare"):
            async with open_runtime(Settings(**settings)):
                pass
        return [
            record.getMessage() for record in caplog.records if "STRATCARE_PUBLIC_BASE_URL" in record.message
        ]

    async def test_authentication_without_a_public_base_url_warns_once_naming_the_setting(
        self, caplog: pytest.LogCaptureFixture, tmp_path: Path
    ) -> None:
        database = f"sqlite+aiosqlite:///{tmp_path / 'warn.db'}"
        issuers = {ISSUER: {"jwks_url": "https://ehr.example.org/jwks.json"}}
        warnings = await self._warnings(caplog, database_url=database, auth="on", jwt_issuers=issuers)
        assert len(warnings) == 1
        assert "Host header" in warnings[0]

    @pytest.mark.parametrize(
        "settings",
        [{"auth": "off"}, {"auth": "on", "public_base_url": "https://stratcare.example.org"}],
    )
    async def test_no_warning_when_the_audience_does_not_come_from_the_host(
        self, caplog: pytest.LogCaptureFixture, tmp_path: Path, settings: dict[str, Any]
    ) -> None:
        database = f"sqlite+aiosqlite:///{tmp_path / 'quiet.db'}"
        assert await self._warnings(caplog, database_url=database, **settings) == []
