"""appointment-book against a real FHIR server: the portal Task is offered once, then found open by search.

The service fetches every prefetch key itself (the EHR sends none), so the Task search template
(``Task?patient=…&code=<system>|complete-questionnaire&status=…``) runs on the server as it is written.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from support.cds_requests import lent_token
from support.fhir_server import FhirTestServer

from .conftest import make_settings, running_app

pytestmark = pytest.mark.integration
SNOMED = "http://snomed.info/sct"
SERVICE = "start-back-appointment-book"


async def create_patient(http: httpx.AsyncClient) -> str:
    response = await http.post("/Patient", json={"resourceType": "Patient", "birthDate": "1975-02-03"})
    response.raise_for_status()
    return str(response.json()["id"])


def booking(server: FhirTestServer, patient: str) -> dict[str, Any]:
    appointment = {
        "resourceType": "Appointment",
        "id": f"appt-{uuid.uuid4().hex[:8]}",
        "status": "proposed",
        "start": "2030-01-10T09:30:00Z",
        "reasonCode": [{"coding": [{"system": SNOMED, "code": "279039007", "display": "Low back pain"}]}],
        "participant": [{"actor": {"reference": f"Patient/{patient}"}, "status": "accepted"}],
    }
    body: dict[str, Any] = {
        "hook": "appointment-book",
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": server.base_url,
        "context": {
            "userId": "Practitioner/scheduler",
            "patientId": patient,
            "appointments": {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": appointment}],
            },
        },
    }
    if server.bearer_token:
        body["fhirAuthorization"] = lent_token(server.bearer_token)
    return body


async def test_the_portal_task_is_not_offered_again_once_it_is_open(
    fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient, sqlite_url: str
) -> None:
    patient = await create_patient(fhir_http)
    async with running_app(make_settings(sqlite_url, fhir_timeout_seconds=30.0)) as client:
        first = await client.post(f"/cds-services/{SERVICE}", json=booking(fhir_server, patient))
        assert first.status_code == 200, first.text
        (card,) = first.json()["cards"]
        (action,) = card["suggestions"][0]["actions"]
        task = action["resource"]

        # The EHR accepts the suggestion: the Task is created on its server.
        created = await fhir_http.post("/Task", json=task)
        assert created.status_code == 201, created.text

        again = await client.post(f"/cds-services/{SERVICE}", json=booking(fhir_server, patient))
        assert again.status_code == 200, again.text
        assert again.json()["cards"] == []
