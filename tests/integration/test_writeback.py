"""A hook call's results reach the EHR's FHIR server: once, linked to their source, whatever happens."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from support.fhir_server import FhirTestServer

from .conftest import (
    HookBody,
    call_hook,
    high_risk_request,
    identifier_of,
    make_settings,
    of_patient,
    outbox_status,
    patient_of,
    running_app,
    wait_for_delivery,
    wait_until,
)

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class UnreachableServer:
    """A FHIR base URL nothing listens on (port 9 is 'discard'; connections are refused)."""

    base_url: str = "http://127.0.0.1:9/fhir"


WRITES_PER_CALL = 2
"""The high-risk call scores two responses (STarT Back and NIH): one transaction Bundle each."""


Resources = list[dict[str, Any]]


async def written(http: httpx.AsyncClient, body: HookBody) -> tuple[Resources, Resources]:
    patient = patient_of(body)
    return await of_patient(http, "Observation", patient), await of_patient(http, "RiskAssessment", patient)


def response_reference(body: HookBody, prefetch_key: str) -> str:
    (entry,) = body["prefetch"][prefetch_key]["entry"]
    return f"QuestionnaireResponse/{entry['resource']['id']}"


def code_of(resource: dict[str, Any]) -> str:
    return str(resource["code"]["coding"][0]["code"])


def assert_one_copy_each(observations: list[dict[str, Any]], assessments: list[dict[str, Any]]) -> None:
    copies = Counter(identifier_of(resource) for resource in observations + assessments)
    assert len(observations) == 3
    assert len(assessments) == 1
    assert set(copies.values()) == {1}, copies


class TestDelivery:
    async def test_results_are_written_with_their_links(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient
    ) -> None:
        body = high_risk_request(fhir_server)
        async with running_app(make_settings(sqlite_url, writes_to=[fhir_server])) as client:
            response = await call_hook(client, body)
            assert response.status_code == 200, response.text
            assert response.json()["cards"]
            await wait_for_delivery(client, WRITES_PER_CALL)

        observations, assessments = await written(fhir_http, body)
        assert_one_copy_each(observations, assessments)
        patient, encounter = patient_of(body), body["context"]["encounterId"]
        start_back = response_reference(body, "startBackResponses")
        nih = response_reference(body, "nihResponses")
        by_code = {code_of(observation): observation for observation in observations}
        assert set(by_code) == {"total-score", "psychosocial-score", "chronicity"}
        assert by_code["total-score"]["valueInteger"] >= by_code["psychosocial-score"]["valueInteger"] >= 4
        for observation in observations:
            assert observation["subject"] == {"reference": f"Patient/{patient}"}
            assert observation["encounter"] == {"reference": f"Encounter/{encounter}"}
            source = nih if code_of(observation) == "chronicity" else start_back
            assert observation["derivedFrom"] == [{"reference": source}]
        (assessment,) = assessments
        assert assessment["subject"] == {"reference": f"Patient/{patient}"}
        assert assessment["encounter"] == {"reference": f"Encounter/{encounter}"}
        assert assessment["prediction"][0]["qualitativeRisk"]["coding"][0]["code"] == "high"
        basis = {reference["reference"] for reference in assessment["basis"]}
        scores = {f"Observation/{by_code[code]['id']}" for code in ("total-score", "psychosocial-score")}
        assert basis == {start_back} | scores

    async def test_the_same_responses_scored_twice_are_written_once(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient
    ) -> None:
        first = high_risk_request(fhir_server)
        second = first | {"hookInstance": high_risk_request(fhir_server)["hookInstance"]}
        async with running_app(make_settings(sqlite_url, writes_to=[fhir_server])) as client:
            for body in (first, second):
                response = await call_hook(client, body)
                assert response.status_code == 200, response.text
            status = await wait_for_delivery(client, WRITES_PER_CALL)

        assert status["delivered"] == WRITES_PER_CALL, "the second call queued nothing"
        assert_one_copy_each(*await written(fhir_http, first))

    async def test_an_outage_delays_writes_but_not_hook_calls(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient
    ) -> None:
        if not fhir_server.can_restart:
            pytest.skip("needs a FHIR server the tests can stop and start")
        calls = [high_risk_request(fhir_server) for _ in range(3)]
        settings = make_settings(sqlite_url, writes_to=[fhir_server], writeback={"max_attempts": 100})
        async with running_app(settings) as client:
            fhir_server.stop()
            try:
                for queued, body in enumerate(calls, start=1):
                    response = await call_hook(client, body)
                    assert response.status_code == 200, response.text
                    assert response.json()["cards"]
                    status = await outbox_status(client)
                    assert status["pending"] + status["inFlight"] == queued * WRITES_PER_CALL
                    assert status["delivered"] == status["dead"] == 0
            finally:
                fhir_server.start()
            await wait_for_delivery(client, len(calls) * WRITES_PER_CALL)

        for body in calls:
            assert_one_copy_each(*await written(fhir_http, body))


class TestTargets:
    async def test_a_server_not_configured_for_write_back_is_never_written_to(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient
    ) -> None:
        """Naming a fhirServer lets the service read from it, not write to it (the default: no targets)."""
        body = high_risk_request(fhir_server)
        async with running_app(make_settings(sqlite_url)) as client:
            response = await call_hook(client, body)
            assert response.status_code == 200, response.text
            assert response.json()["cards"]
            status = await outbox_status(client)
            health = (await client.get("/health")).json()["writeback"]

        assert status["pending"] == status["inFlight"] == status["delivered"] == 0
        assert "systemActions" not in response.json()
        assert await written(fhir_http, body) == ([], [])
        assert (health["mode"], health["allowlist"], health["ehrBaseUrl"]) == ("outbox", [], None)

    async def test_a_write_stuck_for_one_server_does_not_hold_back_another(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient
    ) -> None:
        unreachable = UnreachableServer()
        second = high_risk_request(fhir_server)
        # The same patient and responses (the same assessment identifiers), first for a server that is down.
        first = second | {"fhirServer": unreachable.base_url, "hookInstance": str(uuid.uuid4())}
        settings = make_settings(
            sqlite_url, writes_to=[unreachable, fhir_server], writeback={"max_attempts": 100}
        )
        async with running_app(settings) as client:
            for body in (first, second):
                response = await call_hook(client, body)
                assert response.status_code == 200, response.text
            status: dict[str, int] = {}

            async def reachable_one_delivered() -> bool:
                status.update(await outbox_status(client))
                return status["delivered"] == WRITES_PER_CALL

            await wait_until(reachable_one_delivered, "delivery to the reachable server")

        assert status["pending"] + status["inFlight"] == WRITES_PER_CALL, "still trying the other server"
        assert status["dead"] == 0
        assert_one_copy_each(*await written(fhir_http, second))


class TestSystemActions:
    async def test_both_returns_actions_but_queues_nothing_for_a_server_not_configured(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient
    ) -> None:
        body = high_risk_request(fhir_server)
        async with running_app(make_settings(sqlite_url, writeback={"mode": "both"})) as client:
            response = await call_hook(client, body)
            assert response.status_code == 200, response.text
            status = await outbox_status(client)

        assert len(response.json()["systemActions"]) == 4
        assert status["pending"] == status["inFlight"] == status["delivered"] == 0
        assert await written(fhir_http, body) == ([], [])

    async def test_resources_come_back_to_the_ehr_and_nothing_is_queued(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient
    ) -> None:
        body = high_risk_request(fhir_server)
        async with running_app(make_settings(sqlite_url, writeback={"mode": "system-actions"})) as client:
            response = await call_hook(client, body)
            assert response.status_code == 200, response.text
            status = await outbox_status(client)

        actions = response.json()["systemActions"]
        assert Counter(action["resource"]["resourceType"] for action in actions) == {
            "Observation": 3,
            "RiskAssessment": 1,
        }
        assert {action["type"] for action in actions} == {"create"}
        assert status["pending"] == status["inFlight"] == status["delivered"] == 0
        assert await written(fhir_http, body) == ([], [])

    async def test_both_returns_and_delivers(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient
    ) -> None:
        body = high_risk_request(fhir_server)
        async with running_app(
            make_settings(sqlite_url, writes_to=[fhir_server], writeback={"mode": "both"})
        ) as client:
            response = await call_hook(client, body)
            assert response.status_code == 200, response.text
            await wait_for_delivery(client, WRITES_PER_CALL)

        actions = response.json()["systemActions"]
        observations, assessments = await written(fhir_http, body)
        assert_one_copy_each(observations, assessments)
        returned = sorted(identifier_of(action["resource"]) for action in actions)
        assert returned == sorted(identifier_of(resource) for resource in observations + assessments)
