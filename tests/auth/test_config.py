"""Configuration: the STRATCARE_* environment variables and what a valid issuer looks like."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from stratcare.api.security import warn_open_fhir_servers
from stratcare.auth import AuthEnvironment, AuthSettings, IssuerConfig

SANDBOX = {
    "https://sandbox.cds-hooks.org": {
        "jwks_url": "https://sandbox.cds-hooks.org/.well-known/jwks.json",
        "jku_allowlist": ["https://sandbox.cds-hooks.org/.well-known/jwks.json"],
        "fhir_servers": ["https://launch.smarthealthit.org/v/r4/fhir"],
    }
}


class ServiceSettings(BaseSettings, AuthEnvironment):
    """How the service's settings embed the authentication variables."""

    model_config = SettingsConfigDict(env_prefix="STRATCARE_", extra="ignore")


class TestEnvironment:
    def test_defaults_are_on_with_no_trusted_issuer(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name in ("STRATCARE_AUTH", "STRATCARE_JWT_ISSUERS", "STRATCARE_FHIR_SERVER_ALLOWLIST"):
            monkeypatch.delenv(name, raising=False)
        auth = ServiceSettings().auth_settings()
        assert (auth.mode, auth.issuers, auth.leeway_seconds, auth.max_token_lifetime_seconds) == (
            "on",
            {},
            60,
            300,
        )
        assert auth.jwks_cache_seconds == 600

    def test_variables(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("STRATCARE_AUTH", "off")
        monkeypatch.setenv("STRATCARE_JWT_ISSUERS", json.dumps(SANDBOX))
        monkeypatch.setenv("STRATCARE_FHIR_SERVER_ALLOWLIST", '["http://localhost:8080/fhir"]')
        monkeypatch.setenv("STRATCARE_JWT_LEEWAY_SECONDS", "30")
        monkeypatch.setenv("STRATCARE_JWT_MAX_LIFETIME_SECONDS", "600")
        monkeypatch.setenv("STRATCARE_JWKS_CACHE_SECONDS", "120")
        auth = ServiceSettings().auth_settings()
        sandbox = auth.issuers["https://sandbox.cds-hooks.org"]
        assert sandbox.jku_allowlist == ("https://sandbox.cds-hooks.org/.well-known/jwks.json",)
        assert sandbox.fhir_servers == ("https://launch.smarthealthit.org/v/r4/fhir",)
        assert (auth.mode, auth.leeway_seconds, auth.max_token_lifetime_seconds) == ("off", 30, 600)
        assert (auth.jwks_cache_seconds, auth.fhir_server_allowlist) == (120, ("http://localhost:8080/fhir",))

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("STRATCARE_AUTH", "maybe"),
            ("STRATCARE_JWT_ISSUERS", "{not json"),
            ("STRATCARE_JWT_ISSUERS", '{"https://x": {}}'),
            ("STRATCARE_JWT_LEEWAY_SECONDS", "-1"),
            ("STRATCARE_FHIR_SERVER_ALLOWLIST", '["file:///etc"]'),
        ],
    )
    def test_bad_values_are_refused(self, monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
        monkeypatch.setenv(name, value)
        with pytest.raises(ValueError, match=name.removeprefix("STRATCARE_").lower()):
            ServiceSettings()


class TestIssuerConfig:
    @pytest.mark.parametrize(
        "config",
        [
            {},
            {"jwks_url": "https://a.example/jwks", "jwks_file": "/etc/jwks.json"},
            {"jwks_url": "http://a.example/jwks"},
            {"jwks_url": "/relative/jwks"},
            {"jku_allowlist": ["http://a.example/jwks"]},
            {"jwks_url": "https://a.example/jwks", "fhir_servers": ["ftp://a.example/fhir"]},
            {"jwks_url": "https://a.example/jwks", "surprise": True},
        ],
    )
    def test_invalid(self, config: dict[str, Any]) -> None:
        with pytest.raises(ValidationError):
            IssuerConfig.model_validate(config)

    @pytest.mark.parametrize(
        "url", ["http://localhost:8000/jwks", "http://127.0.0.1/jwks", "http://[::1]/jwks"]
    )
    def test_plain_http_for_loopback_only(self, url: str) -> None:
        assert IssuerConfig(jwks_url=url).jwks_url == url


def test_open_fhir_server_allowlists_are_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    settings = AuthSettings.model_validate(
        {
            "mode": "off",
            "issuers": {**SANDBOX, "https://open.example": {"jwks_url": "https://open.example/j"}},
        }
    )
    with caplog.at_level(logging.WARNING, logger="stratcare.test"):
        warn_open_fhir_servers(settings, logging.getLogger("stratcare.test"))
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2
    assert "https://open.example" in messages[0]
    assert "STRATCARE_FHIR_SERVER_ALLOWLIST" in messages[1]
