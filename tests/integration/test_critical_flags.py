"""PHQ-9 item 9 end to end: the hook, the app over ASGI, a real FHIR server holding the record.

A positive item 9 raises a critical card for same-day clinician review whatever else the pathway says
(here a high STarT Back risk and a red flag), and its result is never acted on by a system action: nothing
is queued or returned for it, while the STarT Back results are still written back.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from instruments.responses import PHQ9, PHQ9_ITEMS, frequency_response
from support.fhir_server import FhirTestServer

from .conftest import call_hook, running_app, search_all, wait_for_delivery
from .test_prefetch_search import CAUDA_EQUINA, condition, create_record, hook_body, settings

pytestmark = pytest.mark.integration
PHQ9_TOTAL = "44261-6"  # LOINC: PHQ-9 total score


def phq9(*points: int) -> dict[str, Any]:
    body = frequency_response(PHQ9, PHQ9_ITEMS, points)
    return {name: value for name, value in body.items() if name not in ("id", "meta", "subject")}


def summaries(response: httpx.Response) -> list[tuple[str, str]]:
    assert response.status_code == 200, response.text
    return [(card["indicator"], card["summary"]) for card in response.json()["cards"]]


class TestSelfHarmItem:
    async def test_a_positive_item_9_raises_a_critical_card_first(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient
    ) -> None:
        patient, encounter = await create_record(fhir_http, [phq9(0, 0, 0, 0, 0, 0, 0, 0, 1)])
        async with running_app(settings(sqlite_url)) as client:
            response = await call_hook(client, hook_body(fhir_server, patient, encounter, {}))
        (first, *rest) = summaries(response)
        assert first[0] == "critical"
        assert "PHQ-9 item 9" in first[1]
        assert "clinician review today" in first[1]
        assert rest, "the pathway's own card still follows"
        assert all(indicator != "critical" for indicator, _ in rest), rest
        card = response.json()["cards"][0]
        assert "suggestions" not in card
        assert "PHQ-9 1/27 (Minimal)" in card["detail"]

    async def test_the_card_is_raised_whatever_the_pathway_says(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient
    ) -> None:
        red_flag = condition("", CAUDA_EQUINA, "Cauda equina syndrome")
        patient, encounter = await create_record(fhir_http, [red_flag, phq9(3, 3, 3, 3, 3, 3, 3, 3, 3)])
        async with running_app(settings(sqlite_url)) as client:
            response = await call_hook(client, hook_body(fhir_server, patient, encounter, {}))
        indicators = [indicator for indicator, _ in summaries(response)]
        assert indicators == ["critical", "critical"]  # the flag card, then the red flag's
        assert "PHQ-9 item 9" in summaries(response)[0][1]

    async def test_item_9_at_not_at_all_raises_no_card(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient
    ) -> None:
        patient, encounter = await create_record(fhir_http, [phq9(3, 3, 3, 3, 3, 3, 3, 3, 0)])
        async with running_app(settings(sqlite_url)) as client:
            response = await call_hook(client, hook_body(fhir_server, patient, encounter, {}))
        cards = summaries(response)
        assert cards
        assert all(indicator != "critical" and "PHQ-9" not in summary for indicator, summary in cards), cards
        assert "PHQ-9 24/27 (Severe)" in response.json()["cards"][0]["detail"]


class TestNoSystemAction:
    async def test_a_flagged_result_is_neither_written_back_nor_returned(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient
    ) -> None:
        patient, encounter = await create_record(fhir_http, [phq9(2, 2, 2, 2, 2, 2, 2, 2, 2)])
        writeback = {"mode": "both"}
        async with running_app(settings(sqlite_url, writes_to=[fhir_server], writeback=writeback)) as client:
            response = await call_hook(client, hook_body(fhir_server, patient, encounter, {}))
            assert response.status_code == 200, response.text
            actions = response.json().get("systemActions", [])
            await wait_for_delivery(client, 2)  # STarT Back and NIH, not PHQ-9
        assert actions, "the STarT Back results are returned as systemActions"
        assert not any(PHQ9_TOTAL in str(action) for action in actions)
        observations = await search_all(fhir_http, "Observation", subject=f"Patient/{patient}")
        assert observations, "the STarT Back scores are written back"
        assert not any(PHQ9_TOTAL in str(observation) for observation in observations)

    async def test_an_unflagged_phq9_is_written_back(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient
    ) -> None:
        patient, encounter = await create_record(fhir_http, [phq9(1, 1, 1, 1, 1, 1, 1, 1, 0)])
        async with running_app(settings(sqlite_url, writes_to=[fhir_server])) as client:
            response = await call_hook(client, hook_body(fhir_server, patient, encounter, {}))
            assert response.status_code == 200, response.text
            await wait_for_delivery(client, 3)
        observations = await search_all(fhir_http, "Observation", subject=f"Patient/{patient}")
        assert any(PHQ9_TOTAL in str(observation) for observation in observations)
