"""Write-back settings: safe defaults, refused half-configurations, environment variables, and wiring."""

from __future__ import annotations

import json
import re
import typing
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import httpx
import pytest
import respx
from joserfc.jwk import ECKey
from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from stratcare.auth import AuthSettings
from stratcare.errors import EhrRejectedError
from stratcare.writeback.backend_auth import SIGNING_ALGORITHMS
from stratcare.writeback.delivery import TokenHandoff
from stratcare.writeback.outbox import ClaimedWrite, PendingWrite
from stratcare.writeback.settings import SigningAlgorithm, WritebackSettings
from stratcare.writeback.targets import WritebackTargets
from stratcare.writeback.wiring import build_deliverer, build_worker

from .fake_outbox import InMemoryOutbox

EHR = "https://ehr.example.org/fhir"
TOKEN_URL = "https://ehr.example.org/oauth2/token"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
OPEN_SERVER = "https://launch.smarthealthit.org/v/r4/fhir"


def targets_of(settings: WritebackSettings) -> WritebackTargets:
    return WritebackTargets.from_settings(settings, AuthSettings(mode="off"))


def backend(key_file: Path) -> dict[str, object]:
    return {
        "backend_client_id": "stratcare",
        "backend_token_url": TOKEN_URL,
        "backend_private_key_file": key_file,
        "backend_key_id": "k1",
        "backend_algorithm": "ES384",
    }


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    key = ECKey.generate_key("P-384")
    path = tmp_path / "key.json"
    path.write_text(json.dumps(key.as_dict(private=True)))
    return path


class TestWritebackSettings:
    def test_defaults_queue_writes_without_backend_services(self) -> None:
        settings = WritebackSettings()
        assert (settings.queues_writes, settings.returns_system_actions) == (True, False)
        assert settings.backend_config() is None

    @pytest.mark.parametrize(
        ("mode", "queues", "actions"),
        [
            ("outbox", True, False),
            ("system-actions", False, True),
            ("both", True, True),
            ("off", False, False),
        ],
    )
    def test_modes(self, mode: str, queues: bool, actions: bool) -> None:
        settings = WritebackSettings.model_validate({"mode": mode})
        assert (settings.queues_writes, settings.returns_system_actions) == (queues, actions)

    def test_an_unknown_mode_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="mode"):
            WritebackSettings.model_validate({"mode": "later"})

    def test_half_a_backend_configuration_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="together"):
            WritebackSettings.model_validate({"ehr_base_url": EHR, "backend_client_id": "stratcare"})

    def test_backend_services_needs_the_ehr_base_url(self, key_file: Path) -> None:
        with pytest.raises(ValidationError, match="ehr_base_url"):
            WritebackSettings.model_validate(backend(key_file))

    def test_backoff_max_below_base_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="backoff_max_seconds"):
            WritebackSettings(backoff_base_seconds=60, backoff_max_seconds=10)

    def test_backend_config(self, key_file: Path) -> None:
        config = WritebackSettings.model_validate({"ehr_base_url": EHR, **backend(key_file)}).backend_config()
        assert config is not None
        assert (config.token_url, config.client_id, config.key_id, config.algorithm) == (
            TOKEN_URL,
            "stratcare",
            "k1",
            "ES384",
        )

    def test_signing_algorithms_match_backend_auth(self) -> None:
        assert set(typing.get_args(SigningAlgorithm)) == set(SIGNING_ALGORITHMS)

    def test_read_from_stratcare_writeback_variables(self, monkeypatch: pytest.MonkeyPatch) -> None:
        class Embedding(BaseSettings):
            model_config = SettingsConfigDict(
                env_prefix="STRATCARE_", env_nested_delimiter="_", env_nested_max_split=1, extra="ignore"
            )
            database_url: str = "sqlite://"
            writeback: WritebackSettings = WritebackSettings()

        monkeypatch.setenv("STRATCARE_WRITEBACK_MODE", "both")
        monkeypatch.setenv("STRATCARE_WRITEBACK_EHR_BASE_URL", EHR)
        monkeypatch.setenv("STRATCARE_WRITEBACK_MAX_ATTEMPTS", "4")
        monkeypatch.setenv("STRATCARE_DATABASE_URL", "sqlite:///other.db")
        settings = Embedding()
        assert settings.database_url == "sqlite:///other.db"
        assert (settings.writeback.mode, str(settings.writeback.ehr_base_url)) == ("both", EHR)
        assert settings.writeback.max_attempts == 4

    def test_where_results_go_is_read_from_the_service_settings(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from stratcare.settings import Settings

        monkeypatch.setenv("STRATCARE_AUTH", "on")
        monkeypatch.setenv("STRATCARE_WRITEBACK_ALLOWLIST", json.dumps([OPEN_SERVER]))
        issuers = {"https://ehr.example.org": {"jwks_url": f"{EHR}/jwks", "writeback_servers": [EHR]}}
        monkeypatch.setenv("STRATCARE_JWT_ISSUERS", json.dumps(issuers))
        monkeypatch.setenv("STRATCARE_DATABASE_UPGRADE_ON_START", "false")
        settings = Settings(_env_file=None)
        assert settings.writeback.allowlist == (OPEN_SERVER,)
        assert settings.jwt_issuers["https://ehr.example.org"].writeback_servers == (EHR,)
        assert settings.database_upgrade_on_start is False
        targets = WritebackTargets.from_settings(settings.writeback, settings.auth_settings())
        assert targets.target_for("https://ehr.example.org", EHR) == EHR
        assert targets.target_for(None, OPEN_SERVER) is None, "the allowlist is for authentication off"

    def test_by_default_nothing_is_a_target(self) -> None:
        assert WritebackSettings().allowlist == ()
        assert WritebackSettings().ehr_base_url is None

    def test_an_allowlist_entry_must_be_a_fhir_url(self) -> None:
        with pytest.raises(ValidationError, match="not an http"):
            WritebackSettings.model_validate({"allowlist": ["ftp://ehr.example.org/fhir"]})


class TestWiring:
    @respx.mock
    async def test_the_deliverer_uses_backend_services_for_the_ehr(self, key_file: Path) -> None:
        respx.post(TOKEN_URL).mock(
            return_value=httpx.Response(200, json={"access_token": "own", "expires_in": 60})
        )
        route = respx.post(EHR).mock(
            return_value=httpx.Response(200, json={"resourceType": "Bundle", "type": "transaction-response"})
        )
        settings = WritebackSettings.model_validate({"ehr_base_url": EHR, **backend(key_file)})
        async with httpx.AsyncClient() as http:
            deliverer = build_deliverer(settings, targets_of(settings), http, TokenHandoff(), lambda: NOW)
            write = ClaimedWrite(1, "k", UUID(int=1), None, {"resourceType": "Bundle"}, 0)
            await deliverer.deliver(write)
        assert route.calls.last.request.headers["Authorization"] == "Bearer own"

    @respx.mock
    async def test_the_deliverer_refuses_a_server_not_configured_for_write_back(self) -> None:
        """A row queued for a server that is no longer (or never was) a target dies without a request."""
        settings = WritebackSettings.model_validate({"ehr_base_url": EHR})
        async with httpx.AsyncClient() as http:
            deliverer = build_deliverer(settings, targets_of(settings), http, TokenHandoff(), lambda: NOW)
            write = ClaimedWrite(1, "k", UUID(int=1), OPEN_SERVER, {"resourceType": "Bundle"}, 0)
            with pytest.raises(
                EhrRejectedError, match=re.escape(f"{OPEN_SERVER} is not configured for write-back")
            ):
                await deliverer.deliver(write)
        assert not respx.calls

    async def test_a_missing_signing_key_fails_at_start_up(self, tmp_path: Path) -> None:
        settings = WritebackSettings.model_validate(
            {"ehr_base_url": EHR, **backend(tmp_path / "absent.json")}
        )
        async with httpx.AsyncClient() as http:
            with pytest.raises(FileNotFoundError):
                build_deliverer(settings, targets_of(settings), http, TokenHandoff(), lambda: NOW)

    async def test_the_worker_follows_the_settings(self) -> None:
        store = InMemoryOutbox()
        for number in range(5):
            store.enqueue(PendingWrite(f"k{number}", UUID(int=1), EHR, {}), NOW)

        class Succeeds:
            async def deliver(self, write: ClaimedWrite) -> None:
                pass

        settings = WritebackSettings(batch_size=2)
        worker = build_worker(settings, store, Succeeds(), lambda: NOW)
        assert await worker.run_once() == 2
        assert worker.worker_id
