"""``GET /metrics``: hook latency and outcomes, prefetch fetches and the outbox, for Prometheus; who may read
it, and the API docs, follow the settings (closed in production by default)."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import respx
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from api.conftest import SERVICE
from stratcare.api.app import create_app
from stratcare.observability import MeteredTransport
from stratcare.settings import Settings
from stratcare.writeback.settings import WritebackSettings

EHR = "https://ehr.example.org/fhir"
RequestFor = Callable[[str], dict[str, Any]]
Exposure = Callable[..., Awaitable[int]]
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
OUTBOX_METRICS = {
    "stratcare_outbox_pending": "gauge",
    "stratcare_outbox_in_flight": "gauge",
    "stratcare_outbox_delivered": "counter",
    "stratcare_outbox_dead": "gauge",
    "stratcare_outbox_oldest_pending_age_seconds": "gauge",
}
SERVICE_METRICS = {
    "stratcare_hook_duration_seconds": "histogram",
    "stratcare_hook_outcomes": "counter",
    "stratcare_prefetch_fetch_duration_seconds": "histogram",
    "stratcare_prefetch_fetches": "counter",
}
EMPTY_BUNDLE = {"resourceType": "Bundle", "type": "searchset", "total": 0, "entry": []}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Development (metrics open); an EHR to write to, but no worker in the process: writes stay pending."""
    writeback = WritebackSettings.model_validate(
        settings.writeback.model_dump() | {"run_in_process": False, "ehr_base_url": EHR}
    )
    return settings.model_copy(update={"writeback": writeback, "environment": "development"})


async def scrape(client: httpx.AsyncClient, **headers: str) -> tuple[Samples, dict[str, str]]:
    """Samples by (name, labels) and the type of every family; fails unless the text parses."""
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    types: dict[str, str] = {}
    for family in text_string_to_metric_families(response.text):
        types[family.name] = family.type
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    assert all(math.isfinite(value) for value in samples.values())
    return samples, types


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


class TestOutbox:
    async def test_an_empty_outbox(self, client: httpx.AsyncClient) -> None:
        samples, types = await scrape(client)
        assert types == OUTBOX_METRICS | SERVICE_METRICS
        assert value(samples, "stratcare_outbox_pending") == 0
        assert value(samples, "stratcare_outbox_delivered_total") == 0

    async def test_counts_writes_a_hook_call_queued(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        await client.post(f"/cds-services/{SERVICE}", json=request_for("high-risk"))

        samples, _ = await scrape(client)

        assert value(samples, "stratcare_outbox_pending") == 2
        assert value(samples, "stratcare_outbox_delivered_total") == 0
        assert value(samples, "stratcare_outbox_oldest_pending_age_seconds") >= 0


class TestHookCalls:
    async def test_latency_and_outcome_by_service(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        for name in ("high-risk", "low-risk"):
            assert (await client.post(f"/cds-services/{SERVICE}", json=request_for(name))).status_code == 200

        samples, _ = await scrape(client)

        assert value(samples, "stratcare_hook_duration_seconds_count", service=SERVICE) == 2
        assert value(samples, "stratcare_hook_duration_seconds_sum", service=SERVICE) > 0
        assert value(samples, "stratcare_hook_duration_seconds_bucket", service=SERVICE, le="+Inf") == 2
        assert value(samples, "stratcare_hook_outcomes_total", service=SERVICE, outcome="cards") == 2

    @pytest.mark.parametrize(
        ("edit", "status", "outcome"),
        [
            (lambda body: body, 412, "prefetch-unavailable"),
            (lambda body: body | {"hook": "patient-view"}, 400, "invalid-request"),
        ],
    )
    async def test_refusals_are_outcomes(
        self,
        client: httpx.AsyncClient,
        request_for: RequestFor,
        edit: Callable[[dict[str, Any]], dict[str, Any]],
        status: int,
        outcome: str,
    ) -> None:
        response = await client.post(f"/cds-services/{SERVICE}", json=edit(request_for("missing-data")))
        assert response.status_code == status

        samples, _ = await scrape(client)

        assert value(samples, "stratcare_hook_outcomes_total", service=SERVICE, outcome=outcome) == 1
        assert value(samples, "stratcare_hook_duration_seconds_count", service=SERVICE) == 1

    async def test_an_unknown_service_id_never_becomes_a_label(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        response = await client.post("/cds-services/made-up-by-the-caller", json=request_for("high-risk"))
        assert response.status_code == 404

        samples, _ = await scrape(client)

        assert (
            value(samples, "stratcare_hook_outcomes_total", service="unknown", outcome="unknown-service") == 1
        )
        assert not [labels for _, labels in samples if ("service", "made-up-by-the-caller") in labels]


class TestPrefetchFetches:
    @respx.mock(assert_all_mocked=True)
    async def test_each_fetch_is_counted_and_timed(
        self, client: httpx.AsyncClient, request_for: RequestFor, respx_mock: respx.MockRouter
    ) -> None:
        conditions = respx_mock.get(url__startswith=f"{EHR}/Condition").mock(
            return_value=httpx.Response(200, json=EMPTY_BUNDLE)
        )
        body = request_for("high-risk") | {"fhirServer": EHR}
        del body["prefetch"]["conditions"]

        assert (await client.post(f"/cds-services/{SERVICE}", json=body)).status_code == 200

        samples, _ = await scrape(client)
        assert conditions.call_count == 1
        assert value(samples, "stratcare_prefetch_fetches_total", outcome="2xx") == 1
        assert value(samples, "stratcare_prefetch_fetch_duration_seconds_count") == 1

    @respx.mock(assert_all_mocked=True)
    async def test_a_fetch_that_times_out_is_counted_as_such(
        self, client: httpx.AsyncClient, request_for: RequestFor, respx_mock: respx.MockRouter
    ) -> None:
        respx_mock.get(url__startswith=f"{EHR}/Condition").mock(side_effect=httpx.ConnectTimeout("slow"))
        body = request_for("high-risk") | {"fhirServer": EHR}
        del body["prefetch"]["conditions"]

        assert (await client.post(f"/cds-services/{SERVICE}", json=body)).status_code == 412

        samples, _ = await scrape(client)
        assert value(samples, "stratcare_prefetch_fetches_total", outcome="timeout") == 1
        assert (
            value(samples, "stratcare_hook_outcomes_total", service=SERVICE, outcome="prefetch-unavailable")
            == 1
        )


class TestMeteredTransport:
    @pytest.mark.parametrize(
        ("answer", "outcome"),
        [
            (httpx.Response(200), "2xx"),
            (httpx.Response(404), "4xx"),
            (httpx.Response(503), "5xx"),
            (httpx.ReadTimeout("slow"), "timeout"),
            (httpx.ConnectError("refused"), "error"),
        ],
    )
    async def test_reports_the_outcome_and_the_time(
        self, answer: httpx.Response | Exception, outcome: str
    ) -> None:
        def handler(_: httpx.Request) -> httpx.Response:
            if isinstance(answer, Exception):
                raise answer
            return answer

        clock = iter([10.0, 10.25])
        seen: list[tuple[str, float]] = []
        transport = MeteredTransport(
            httpx.MockTransport(handler),
            lambda kind, seconds: seen.append((kind, seconds)),
            lambda: next(clock),
        )
        async with httpx.AsyncClient(transport=transport) as http:
            with contextlib.suppress(httpx.TransportError):
                await http.get("https://ehr.example.org/fhir/Condition")
        assert seen == [(outcome, 0.25)]


@pytest.fixture
def exposure(settings: Settings) -> Exposure:
    async def status_of(path: str, headers: dict[str, str] | None = None, **overrides: Any) -> int:
        """The status of ``GET path`` from an app with these settings."""
        app = create_app(settings.model_copy(update=overrides))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://stratcare.test") as http:
                return (await http.get(path, headers=headers or {})).status_code

    return status_of


class TestExposure:
    async def test_production_hides_metrics_and_docs_by_default(self) -> None:
        defaults = Settings()
        assert defaults.environment == "production"
        assert defaults.metrics_token is None
        assert defaults.serves_api_docs is False

    @pytest.mark.parametrize("path", ["/metrics", "/docs", "/redoc", "/openapi.json"])
    async def test_closed_in_production(self, exposure: Exposure, path: str) -> None:
        assert await exposure(path, environment="production") == 404

    @pytest.mark.parametrize("path", ["/metrics", "/docs", "/openapi.json"])
    async def test_open_in_development(self, exposure: Exposure, path: str) -> None:
        assert await exposure(path, environment="development") == 200

    async def test_docs_can_be_served_in_production(self, exposure: Exposure) -> None:
        assert await exposure("/openapi.json", environment="production", api_docs=True) == 200
        assert await exposure("/docs", environment="development", api_docs=False) == 404

    @pytest.mark.parametrize("environment", ["production", "development"])
    @pytest.mark.parametrize(
        ("authorization", "status"),
        [(None, 401), ("Bearer not-the-token", 401), ("Basic c2NyYXBlcg==", 401), ("Bearer scrape-me", 200)],
    )
    async def test_a_metrics_token_protects_metrics(
        self, exposure: Exposure, environment: str, authorization: str | None, status: int
    ) -> None:
        headers = {"Authorization": authorization} if authorization else {}
        token = SecretStr("scrape-me")
        got = await exposure("/metrics", headers, environment=environment, metrics_token=token)
        assert got == status

    def test_the_token_is_read_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("STRATCARE_METRICS_TOKEN", "scrape-me")
        monkeypatch.setenv("STRATCARE_API_DOCS", "true")
        monkeypatch.setenv("STRATCARE_ENVIRONMENT", "development")
        settings = Settings()
        assert settings.metrics_token is not None
        assert settings.metrics_token.get_secret_value() == "scrape-me"
        assert (settings.api_docs, settings.environment) == (True, "development")
