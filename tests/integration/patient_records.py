"""Records written to the real FHIR server as an EHR holds them, and patient-view calls that name the server
and send no prefetch (the service fetches everything itself)."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from stratcare.content import default_content_root
from support.cds_requests import lent_token
from support.fhir_server import FhirTestServer

from .conftest import HookBody

JsonObject = dict[str, Any]
SNOMED = "http://snomed.info/sct"
ADULT_BIRTH_DATE = "1970-05-14"
CONTENT_FOLDERS = ("hooks", "questionnaires", "plan_definitions", "terminology", "directory", "letters")


def days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")


def active_condition(code: str, display: str) -> JsonObject:
    return {
        "resourceType": "Condition",
        "clinicalStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
            ]
        },
        "verificationStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}
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
        "code": {"coding": [{"system": SNOMED, "code": code, "display": display}], "text": display},
        "recordedDate": days_ago(30)[:10],
    }


def as_stored(response: JsonObject, authored_days_ago: int = 2) -> JsonObject:
    """A scoring test's QuestionnaireResponse as the EHR would store it: no id, dated recently."""
    kept = {name: value for name, value in response.items() if name not in ("id", "meta", "subject")}
    return kept | {"authored": days_ago(authored_days_ago)}


async def create_patient(http: httpx.AsyncClient, resources: list[JsonObject]) -> tuple[str, list[str]]:
    """An adult patient and ``resources`` about them, in one transaction: the patient id and the
    ``Type/id`` of each resource, in order."""
    patient_url = f"urn:uuid:{uuid.uuid4()}"
    entries: list[JsonObject] = [
        {
            "fullUrl": patient_url,
            "resource": {"resourceType": "Patient", "active": True, "birthDate": ADULT_BIRTH_DATE},
        }
    ]
    for resource in resources:
        element = "for" if resource["resourceType"] == "Task" else "subject"
        entries.append(
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": resource | {element: {"reference": patient_url}},
            }
        )
    for entry in entries:
        entry["request"] = {"method": "POST", "url": entry["resource"]["resourceType"]}
    response = await http.post("", json={"resourceType": "Bundle", "type": "transaction", "entry": entries})
    response.raise_for_status()
    locations = ["/".join(e["response"]["location"].split("/")[:2]) for e in response.json()["entry"]]
    return locations[0].split("/")[1], locations[1:]


def patient_view(server: FhirTestServer, patient: str) -> HookBody:
    body: HookBody = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": server.base_url,
        "context": {"userId": "Practitioner/gp", "patientId": patient},
        "prefetch": {},
    }
    if server.bearer_token:
        body["fhirAuthorization"] = lent_token(server.bearer_token)
    return body


async def call_service(
    client: httpx.AsyncClient, service: str, server: FhirTestServer, patient: str
) -> list[JsonObject]:
    """The cards of one patient-view call to ``service``."""
    response = await client.post(f"/cds-services/{service}", json=patient_view(server, patient))
    assert response.status_code == 200, response.text
    cards: list[JsonObject] = response.json()["cards"]
    return cards


def created_resources(card: JsonObject) -> list[JsonObject]:
    return [
        action["resource"]
        for suggestion in card.get("suggestions", [])
        for action in suggestion["actions"]
        if action["type"] == "create"
    ]


def content_copy(root: Path, edits: dict[str, Callable[[JsonObject], None]]) -> Path:
    """The shipped content under ``root`` with PlanDefinitions edited (by file name), as a clinic would."""
    for folder in CONTENT_FOLDERS:
        shutil.copytree(default_content_root() / folder, root / folder)
    for plan_file, edit in edits.items():
        path = root / "plan_definitions" / plan_file
        plan = json.loads(path.read_text(encoding="utf-8"))
        edit(plan)
        path.write_text(json.dumps(plan), encoding="utf-8")
    return root


def setting_editor(name: str, **value: object) -> Callable[[JsonObject], None]:
    """An edit setting the pathway setting ``name`` to ``value`` (``valueCode=`` or ``valueInteger=``)."""

    def edit(plan: JsonObject) -> None:
        for setting in plan["extension"]:
            named, current = setting["extension"]
            if named["valueString"] == name:
                current.clear()
                current.update({"url": "value", **value})
                return
        raise AssertionError(f"no pathway setting {name}")

    return edit
