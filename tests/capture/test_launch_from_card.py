"""From the card to the record: the "screening due" card's CDS Hooks ``smart`` link is launched the way an
EHR launches it (the local SMART authorization server, which is also the EHR's FHIR endpoint in front of the
real local FHIR server), the patient answers, the QuestionnaireResponse reaches the FHIR server through the
outbox, and the next hook call shows the risk card with its pended referral."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from capture.conftest import START_BACK, all_answers, capture_settings
from capture.smart_server import SmartServer, running_smart_server
from capture.test_pages import ticket_of
from stratcare.api.app import create_app
from stratcare.json_types import JsonObject
from support.fhir_server import FhirTestServer, running_fhir_server

pytestmark = pytest.mark.integration
CLIENT = "stratcare-capture"
BASE = "http://stratcare.test"
SNOMED = "http://snomed.info/sct"
WAIT_SECONDS = 30.0


@pytest.fixture(scope="module")
def fhir_server() -> Iterator[FhirTestServer]:
    with running_fhir_server() as server:
        yield server


@pytest.fixture
def ehr(fhir_server: FhirTestServer) -> Iterator[SmartServer]:
    tag = uuid.uuid4().hex[:10]
    server = SmartServer(
        client_id=CLIENT,
        patient=f"pat-{tag}",
        encounter=f"enc-{tag}",
        app_context={},  # set from the card, as the EHR takes it from the link it launches
        fhir_upstream=fhir_server.base_url,
        fhir_headers=fhir_server.auth_headers(),
    )
    with running_smart_server(server) as running:
        seed(running)
        yield running


@pytest.fixture
async def app(tmp_path: Path, ehr: SmartServer) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    settings = capture_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
        ehr=ehr.iss,
        smart_client_id=CLIENT,
        public_base_url=BASE,
    )
    settings.writeback.run_in_process = True
    settings.writeback.idle_poll_seconds = 0.05
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url=BASE, timeout=20) as client:
            yield application, client


def seed(ehr: SmartServer) -> None:
    """An adult with low back pain on the problem list, in an encounter, on the EHR's FHIR server."""
    patient, encounter = ehr.patient, ehr.encounter
    resources: list[JsonObject] = [
        {"resourceType": "Patient", "id": patient, "birthDate": "1970-01-01"},
        {
            "resourceType": "Encounter",
            "id": encounter,
            "status": "in-progress",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "subject": {"reference": f"Patient/{patient}"},
        },
        {
            "resourceType": "Condition",
            "id": f"lbp-{patient}",
            "clinicalStatus": {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
                ]
            },
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                            "code": "problem-list-item",
                        }
                    ]
                }
            ],
            "code": {"coding": [{"system": SNOMED, "code": "279039007", "display": "Low back pain"}]},
            "subject": {"reference": f"Patient/{patient}"},
            "recordedDate": "2026-11-01",
        },
    ]
    headers = {"Content-Type": "application/fhir+json"}
    for resource in resources:
        url = f"{ehr.iss}/{resource['resourceType']}/{resource['id']}"
        httpx.put(url, json=resource, headers=headers, timeout=10).raise_for_status()


async def encounter_start(client: httpx.AsyncClient, ehr: SmartServer) -> list[JsonObject]:
    hook = {
        "hook": "encounter-start",
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": ehr.iss,
        "context": {"userId": "Practitioner/gp-1", "patientId": ehr.patient, "encounterId": ehr.encounter},
    }
    answered = await client.post("/cds-services/start-back-encounter-start", json=hook)
    assert answered.status_code == 200, answered.text
    cards: list[JsonObject] = answered.json()["cards"]
    return cards


async def launch_link(client: httpx.AsyncClient, ehr: SmartServer, link: JsonObject) -> httpx.Response:
    """What the EHR does with a ``smart`` link: launch its url with ``launch`` and ``iss``, and hand the
    link's appContext to the app in the token response."""
    ehr.app_context = link["appContext"]
    start = await client.get(link["url"], params={"launch": ehr.launch, "iss": ehr.iss})
    assert start.status_code == 302, start.text
    authorize = await asyncio.to_thread(httpx.get, start.headers["location"], timeout=10)
    assert authorize.status_code == 307, authorize.text
    callback = urlsplit(authorize.headers["location"])
    query = {key: value[0] for key, value in parse_qs(callback.query).items()}
    return await client.get(callback.path, params=query)


async def responses_on_record(ehr: SmartServer) -> list[JsonObject]:
    deadline = time.monotonic() + WAIT_SECONDS
    async with httpx.AsyncClient(timeout=10) as http:
        while True:
            found = await http.get(
                f"{ehr.iss}/QuestionnaireResponse", params={"subject": f"Patient/{ehr.patient}"}
            )
            found.raise_for_status()
            entries = found.json().get("entry") or []
            if entries:
                return [entry["resource"] for entry in entries]
            if time.monotonic() > deadline:
                pytest.fail("the QuestionnaireResponse did not reach the FHIR server")
            await asyncio.sleep(0.1)


async def test_the_screening_card_launches_the_capture_page_and_the_next_call_shows_the_risk(
    app: tuple[FastAPI, httpx.AsyncClient], ehr: SmartServer
) -> None:
    _, client = app
    (due,) = await encounter_start(client, ehr)
    assert due["summary"] == "STarT Back screening is due"
    (link,) = [link for link in due["links"] if link["type"] == "smart"]
    assert link["url"] == f"{BASE}/capture/launch"
    assert json.loads(link["appContext"]) == {
        "questionnaire": f"{START_BACK}|1.0.0",
        "patient": ehr.patient,
        "encounter": ehr.encounter,
        "workflowPoint": "clinician",
    }

    opened = await launch_link(client, ehr, link)
    assert opened.status_code == 200, opened.text
    (authorize,) = ehr.seen_authorize
    assert authorize["code_challenge_method"] == "S256"
    submitted = await client.post(
        "/capture/submit", data={"ticket": ticket_of(opened.text), **all_answers(8)}
    )
    assert submitted.status_code == 200, submitted.text
    assert "High risk" in submitted.text

    (response,) = await responses_on_record(ehr)
    assert response["questionnaire"] == f"{START_BACK}|1.0.0"
    assert response["subject"] == {"reference": f"Patient/{ehr.patient}"}
    assert response["encounter"] == {"reference": f"Encounter/{ehr.encounter}"}

    (risk,) = await encounter_start(client, ehr)
    assert "high risk" in risk["summary"].lower()
    (suggestion,) = risk["suggestions"]
    referral = suggestion["actions"][0]["resource"]
    assert referral["status"] == "draft"
    assert {"reference": f"QuestionnaireResponse/{response['id']}"} in [
        {"reference": info["reference"]} for info in referral["supportingInfo"]
    ]


async def test_a_card_for_another_patient_is_refused(
    app: tuple[FastAPI, httpx.AsyncClient], ehr: SmartServer
) -> None:
    _, client = app
    (due,) = await encounter_start(client, ehr)
    (link,) = [link for link in due["links"] if link["type"] == "smart"]
    context = json.loads(link["appContext"]) | {"patient": "someone-else"}
    opened = await launch_link(client, ehr, link | {"appContext": json.dumps(context)})
    assert opened.status_code == 400
    assert "another patient" in opened.text
