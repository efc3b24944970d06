"""``GET /health`` reports the outbox (``GET /metrics``: tests/api/test_metrics.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from api.conftest import SERVICE
from stratcare.api.app import create_app
from stratcare.settings import Settings
from stratcare.writeback.settings import WritebackSettings

EHR = "https://ehr.example.org/fhir"
RequestFor = Callable[[str], dict[str, Any]]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """An EHR to write to, but no worker in the process: queued writes stay pending."""
    writeback = WritebackSettings.model_validate(
        settings.writeback.model_dump() | {"run_in_process": False, "ehr_base_url": EHR}
    )
    return settings.model_copy(update={"writeback": writeback})


class TestHealth:
    async def test_an_empty_outbox(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health")

        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        assert body["outbox"] == {
            "pending": 0,
            "inFlight": 0,
            "delivered": 0,
            "dead": 0,
            "oldestPendingAgeSeconds": None,
        }

    async def test_counts_writes_a_hook_call_queued(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        hook = await client.post(f"/cds-services/{SERVICE}", json=request_for("high-risk"))
        assert hook.status_code == 200

        outbox = (await client.get("/health")).json()["outbox"]

        assert outbox["pending"] == 2, "one write per scored response: STarT Back and NIH"
        assert outbox["inFlight"] == outbox["delivered"] == outbox["dead"] == 0
        assert outbox["oldestPendingAgeSeconds"] >= 0


class TestWhereResultsGo:
    async def test_health_names_the_targets_and_the_mode(self, client: httpx.AsyncClient) -> None:
        writeback = (await client.get("/health")).json()["writeback"]
        assert writeback == {
            "mode": "outbox",
            "outbox": True,
            "systemActions": False,
            "ehrBaseUrl": EHR,
            "allowlist": [],
            "issuers": {},
            "otherServers": "not written to",
        }

    async def test_start_up_logs_where_results_go(
        self, settings: Settings, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.INFO, logger="stratcare")
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            pass
        lines = [record.getMessage() for record in caplog.records if "write-back" in record.getMessage()]
        assert lines == [
            f"write-back mode outbox: results are written to {EHR}; any other fhirServer is not written to"
        ]

    async def test_a_call_naming_another_server_queues_nothing(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        """The default: the public sandbox's open FHIR server is read from, never written to."""
        body = request_for("high-risk") | {"fhirServer": "https://launch.smarthealthit.org/v/r4/fhir"}
        hook = await client.post(f"/cds-services/{SERVICE}", json=body)
        assert hook.status_code == 200
        assert hook.json()["cards"]

        assert (await client.get("/health")).json()["outbox"]["pending"] == 0
