"""``GET /health`` reports the outbox; ``GET /metrics`` exposes it to Prometheus."""

from __future__ import annotations

import logging
import math
import re
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
METRIC_NAMES = {
    "stratcare_outbox_pending": "gauge",
    "stratcare_outbox_in_flight": "gauge",
    "stratcare_outbox_delivered_total": "counter",
    "stratcare_outbox_dead": "gauge",
    "stratcare_outbox_oldest_pending_age_seconds": "gauge",
}
COMMENT = re.compile(r"# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)")
SAMPLE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*) (\S+)")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """An EHR to write to, but no worker in the process: queued writes stay pending."""
    writeback = WritebackSettings.model_validate(
        settings.writeback.model_dump() | {"run_in_process": False, "ehr_base_url": EHR}
    )
    return settings.model_copy(update={"writeback": writeback})


def parse_exposition(text: str) -> tuple[dict[str, float], dict[str, str]]:
    """Samples and declared types of a Prometheus text exposition; fails on any line out of format."""
    assert text.endswith("\n")
    samples: dict[str, float] = {}
    types: dict[str, str] = {}
    for line in text.splitlines():
        if comment := COMMENT.fullmatch(line):
            kind, name, rest = comment.groups()
            if kind == "TYPE":
                assert name not in samples, f"TYPE of {name} after its sample"
                types[name] = rest
            continue
        sample = SAMPLE.fullmatch(line)
        assert sample, f"not a sample line: {line!r}"
        name, value = sample.groups()
        assert name not in samples, f"{name} given twice"
        samples[name] = float(value)
    return samples, types


async def metrics(client: httpx.AsyncClient) -> dict[str, float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples, types = parse_exposition(response.text)
    assert types == METRIC_NAMES
    assert all(math.isfinite(value) for value in samples.values())
    return samples


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


class TestMetrics:
    async def test_an_empty_outbox(self, client: httpx.AsyncClient) -> None:
        assert await metrics(client) == dict.fromkeys(METRIC_NAMES, 0.0)

    async def test_counts_writes_a_hook_call_queued(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        await client.post(f"/cds-services/{SERVICE}", json=request_for("high-risk"))

        samples = await metrics(client)

        assert samples["stratcare_outbox_pending"] == 2
        assert samples["stratcare_outbox_delivered_total"] == 0
        assert samples["stratcare_outbox_oldest_pending_age_seconds"] >= 0


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
