"""``GET /health`` reports the outbox (``GET /metrics``: tests/api/test_metrics.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from api.conftest import SERVICE
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
