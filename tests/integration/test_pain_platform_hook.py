"""Pain Platform stepped care and the referral loop end to end: the patient-view hooks, the app over ASGI,
a real FHIR server holding the record and, once the EHR has carried out the suggestion, the referral.

A patient with fibromyalgia and a PHQ-9 and GAD-7 on record gets one suggestion that creates both the
pended ServiceRequest (performer the platform, the questionnaires as supportingInfo) and the Task in the
platform's worklist. After the EHR has created both, the referral-status service shows the referral's
status as the platform works the Task; when the platform rejects it, a warning card says so and the
referral may be sent again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from instruments.responses import GAD7, GAD7_ITEMS, PHQ9, PHQ9_ITEMS, frequency_response
from stratcare.pathways.referral_status import REFERRAL_IDENTIFIER_SYSTEM
from stratcare.settings import Settings
from support.fhir_server import FhirTestServer

from .conftest import make_settings, running_app, search_all
from .patient_records import (
    active_condition,
    as_stored,
    call_service,
    content_copy,
    create_patient,
    created_resources,
    days_ago,
    setting_editor,
)
from .test_prefetch_search import PREFETCH_DEADLINE_SECONDS

pytestmark = pytest.mark.integration
PLATFORM = "pain-platform-patient-view"
STATUS = "referral-status-patient-view"
ORDERS = "http://stratcare.org/fhir/CodeSystem/stratcare-orders"
PLATFORM_ORGANIZATION = {"system": "http://stratcare.org/fhir/sid/organization", "value": "pain-platform"}
FIBROMYALGIA = ("203082005", "Fibromyalgia")
JsonObject = dict[str, Any]


def settings(sqlite_url: str, **overrides: Any) -> Settings:
    return make_settings(
        sqlite_url,
        fhir_timeout_seconds=PREFETCH_DEADLINE_SECONDS,
        hook_deadline_seconds=PREFETCH_DEADLINE_SECONDS,
        **overrides,
    )


def phq9(*points: int) -> JsonObject:
    return as_stored(frequency_response(PHQ9, PHQ9_ITEMS, points))


def gad7(*points: int) -> JsonObject:
    return as_stored(frequency_response(GAD7, GAD7_ITEMS, points))


def summaries(cards: list[JsonObject]) -> list[str]:
    return [str(card["summary"]) for card in cards]


async def carry_out(http: httpx.AsyncClient, card: JsonObject) -> tuple[JsonObject, JsonObject]:
    """What the EHR does when the clinician accepts the suggestion: create each resource, in order."""
    stored = []
    for resource in created_resources(card):
        response = await http.post(f"/{resource['resourceType']}", json=resource)
        assert response.status_code == 201, response.text
        stored.append(response.json())
    request, task = stored
    return request, task


async def platform_works_the_task(
    http: httpx.AsyncClient, task: JsonObject, status: str, reason: str | None = None
) -> JsonObject:
    """What the Pain Platform does in its worklist: update the Task's status on the server."""
    current = (await http.get(f"/Task/{task['id']}")).json()
    current["status"] = status
    if reason is not None:
        current["statusReason"] = {"text": reason}
    response = await http.put(f"/Task/{task['id']}", json=current)
    assert response.status_code == 200, response.text
    updated: JsonObject = response.json()
    return updated


class TestOneButtonReferral:
    async def test_the_suggestion_creates_the_request_and_the_worklist_task(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient
    ) -> None:
        depressed = phq9(2, 2, 2, 1, 1, 1, 1, 1, 0)  # 11: at the step-up threshold (10)
        patient, [_, phq, gad] = await create_patient(
            fhir_http, [active_condition(*FIBROMYALGIA), depressed, gad7(1, 1, 1, 1, 1, 0, 0)]
        )
        async with running_app(settings(sqlite_url)) as client:
            [card] = await call_service(client, PLATFORM, fhir_server, patient)
        assert "high-intensity CBT (step 3)" in card["summary"]
        [suggestion] = card["suggestions"]
        request, task = (action["resource"] for action in suggestion["actions"])
        assert [action["type"] for action in suggestion["actions"]] == ["create", "create"]
        assert (request["resourceType"], request["status"], request["intent"]) == (
            "ServiceRequest",
            "draft",
            "order",
        )
        assert (ORDERS, "pain-platform-high-intensity-cbt") in {
            (coding["system"], coding["code"]) for coding in request["code"]["coding"]
        }
        assert PLATFORM_ORGANIZATION in [performer["identifier"] for performer in request["performer"]]
        assert [info["reference"] for info in request["supportingInfo"]] == [phq, gad]
        assert (task["resourceType"], task["status"], task["intent"]) == ("Task", "requested", "order")
        assert task["owner"]["identifier"] == PLATFORM_ORGANIZATION
        assert task["for"] == {"reference": f"Patient/{patient}"}
        [identifier] = [i for i in request["identifier"] if i["system"] == REFERRAL_IDENTIFIER_SYSTEM]
        assert task["focus"]["identifier"] == identifier

        # The EHR accepts both resources as they are: the references are valid on a real server.
        stored_request, stored_task = await carry_out(fhir_http, card)
        by_identifier = await search_all(
            fhir_http, "ServiceRequest", identifier=f"{REFERRAL_IDENTIFIER_SYSTEM}|{identifier['value']}"
        )
        assert [sr["id"] for sr in by_identifier] == [stored_request["id"]]
        assert stored_task["focus"]["identifier"] == identifier

    async def test_mild_scores_get_low_intensity_telephone_cbt(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient
    ) -> None:
        patient, _ = await create_patient(
            fhir_http,
            [active_condition(*FIBROMYALGIA), phq9(1, 1, 0, 0, 1, 0, 0, 1, 0), gad7(1, 0, 1, 0, 0, 1, 0)],
        )
        async with running_app(settings(sqlite_url)) as client:
            [card] = await call_service(client, PLATFORM, fhir_server, patient)
        request, _task = created_resources(card)
        assert (ORDERS, "pain-platform-low-intensity-cbt") in {
            (coding["system"], coding["code"]) for coding in request["code"]["coding"]
        }

    async def test_without_a_gad7_no_step_is_chosen(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient
    ) -> None:
        patient, _ = await create_patient(
            fhir_http, [active_condition(*FIBROMYALGIA), phq9(1, 1, 0, 0, 1, 0, 0, 1, 0)]
        )
        async with running_app(settings(sqlite_url)) as client:
            [card] = await call_service(client, PLATFORM, fhir_server, patient)
        assert "ask for PHQ-9 and GAD-7" in card["summary"]
        assert "suggestions" not in card


class TestClosingTheLoop:
    async def test_status_follows_the_task_and_a_rejection_raises_a_card(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient
    ) -> None:
        patient, _ = await create_patient(
            fhir_http,
            [active_condition(*FIBROMYALGIA), phq9(1, 1, 0, 0, 1, 0, 0, 1, 0), gad7(1, 0, 1, 0, 0, 1, 0)],
        )
        async with running_app(settings(sqlite_url)) as client:
            assert await call_service(client, STATUS, fhir_server, patient) == []
            [offer] = await call_service(client, PLATFORM, fhir_server, patient)
            _request, task = await carry_out(fhir_http, offer)

            [sent] = await call_service(client, STATUS, fhir_server, patient)
            assert (sent["indicator"], sent["summary"]) == ("info", "Referral sent, awaiting acceptance")
            assert "Pain Platform: low-intensity telephone CBT (step 2)" in sent["detail"]
            [again] = await call_service(client, PLATFORM, fhir_server, patient)
            assert "suggestions" not in again, "an open referral is not offered twice"

            for status, expected in [
                ("accepted", "Referral accepted by the receiving service"),
                ("in-progress", "Referral in progress: treatment under way"),
            ]:
                await platform_works_the_task(fhir_http, task, status)
                assert summaries(await call_service(client, STATUS, fhir_server, patient)) == [expected]

            await platform_works_the_task(fhir_http, task, "rejected", "Needs a pain diary first")
            [rejected] = await call_service(client, STATUS, fhir_server, patient)
            assert rejected["indicator"] == "warning"
            assert rejected["summary"] == "Referral rejected: review and refer again or choose another option"
            [offered_again] = await call_service(client, PLATFORM, fhir_server, patient)
            assert len(created_resources(offered_again)) == 2, "a rejected referral may be sent again"

    @pytest.mark.parametrize(
        ("status", "expected"),
        [
            ("completed", "Referral completed"),
            ("cancelled", "Referral cancelled or failed"),
        ],
    )
    async def test_closed_statuses(
        self,
        sqlite_url: str,
        fhir_server: FhirTestServer,
        fhir_http: httpx.AsyncClient,
        status: str,
        expected: str,
    ) -> None:
        patient, [request_ref] = await create_patient(fhir_http, [referral(days=10)])
        await create_task(fhir_http, patient, request_ref, status)
        async with running_app(settings(sqlite_url)) as client:
            assert summaries(await call_service(client, STATUS, fhir_server, patient)) == [expected]

    async def test_a_referral_not_accepted_within_the_clinic_window_raises_a_card(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient, tmp_path: Path
    ) -> None:
        patient, [request_ref] = await create_patient(fhir_http, [referral(days=20)])
        await create_task(fhir_http, patient, request_ref, "requested")
        async with running_app(settings(sqlite_url)) as client:
            [late] = await call_service(client, STATUS, fhir_server, patient)
        assert (late["indicator"], late["summary"]) == (
            "warning",
            "Referral not yet accepted: chase the receiving service",
        )

        # The window is the clinic's: a clinic allowing 30 days is not warned at 20.
        thirty_days = setting_editor("acceptanceWindowDays", valueInteger=30)
        edits = {"PlanDefinition-stratcare-referral-status.json": thirty_days}
        content = content_copy(tmp_path / "content", edits)
        relaxed = settings(sqlite_url.replace(".db", "-relaxed.db"), content_dir=content)
        async with running_app(relaxed) as client:
            assert summaries(await call_service(client, STATUS, fhir_server, patient)) == [
                "Referral sent, awaiting acceptance"
            ]

    async def test_referrals_stratcare_did_not_suggest_are_not_shown(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient
    ) -> None:
        foreign = referral(days=20) | {
            "instantiatesCanonical": ["http://example.org/fhir/ActivityDefinition/other-service"]
        }
        patient, [request_ref] = await create_patient(fhir_http, [foreign])
        await create_task(fhir_http, patient, request_ref, "rejected")
        async with running_app(settings(sqlite_url)) as client:
            assert await call_service(client, STATUS, fhir_server, patient) == []


def referral(days: int) -> JsonObject:
    """A Pain Platform referral the EHR holds, made from stratcare's suggestion ``days`` ago."""
    return {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "instantiatesCanonical": [
            "http://stratcare.org/fhir/ActivityDefinition/pain-platform-low-intensity-cbt|1.0.0"
        ],
        "code": {"text": "Pain Platform: low-intensity telephone CBT (step 2)"},
        "authoredOn": days_ago(days),
    }


async def create_task(http: httpx.AsyncClient, patient: str, request_ref: str, status: str) -> JsonObject:
    """The platform's worklist Task for the referral, referring to the request by its server id."""
    task = {
        "resourceType": "Task",
        "status": status,
        "intent": "order",
        "focus": {"reference": request_ref},
        "for": {"reference": f"Patient/{patient}"},
        "owner": {"identifier": PLATFORM_ORGANIZATION},
    }
    response = await http.post("/Task", json=task)
    assert response.status_code == 201, response.text
    created: JsonObject = response.json()
    return created
