"""A site adds an instrument and a pathway with no change to stratcare: a Questionnaire (answer weights as
``ordinalValue``, the instrument extensions), a PlanDefinition with its ActivityDefinition and a service
descriptor, all JSON in a folder of its own content, plus a scorer registered as a ``stratcare.scorers``
entry point (docs/instruments.md). Through the app: discovery lists the service, the hook scores the
response with the plug-in scorer and the pathway answers with its card and referral."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from instruments.plugin_content import (
    SYSTEM,
    URL,
    worst_pain_questionnaire,
    write_scorer_distribution,
)
from instruments.responses import PATIENT_ID, response
from stratcare.api.app import create_app
from stratcare.content import default_content_root
from stratcare.settings import Settings

JsonObject = dict[str, Any]
SERVICE = "worst-pain-patient-view"
PLAN = "http://example.org/fhir/PlanDefinition/worst-pain-care"
ACTIVITY = "http://example.org/fhir/ActivityDefinition/worst-pain-clinic-referral"
ORDERS = "http://example.org/fhir/CodeSystem/orders"
SHIPPED = ("hooks", "questionnaires", "plan_definitions", "terminology", "directory", "letters")


def condition(expression: str) -> JsonObject:
    return {
        "kind": "applicability",
        "expression": {"language": "text/fhirpath", "expression": expression},
    }


def setting(name: str, value: int) -> JsonObject:
    return {
        "url": "http://stratcare.org/fhir/StructureDefinition/pathway-setting",
        "extension": [{"url": "name", "valueString": name}, {"url": "value", "valueInteger": value}],
    }


def plan_definition() -> JsonObject:
    current = "%worstPain.ageDays <= %settings.screenWindowDays"
    return {
        "resourceType": "PlanDefinition",
        "id": "worst-pain-care",
        "extension": [setting("screenWindowDays", 14), setting("orderWindowDays", 84)],
        "url": PLAN,
        "version": "1.0.0",
        "title": "Worst pain care",
        "status": "active",
        "action": [
            {
                "id": "bad",
                "title": "Worst pain is bad: refer to the pain clinic",
                "priority": "urgent",
                "condition": [condition(current), condition("%worstPain.band = 'bad'")],
                "definitionCanonical": f"{ACTIVITY}|1.0.0",
            },
            {
                "id": "ok",
                "title": "Worst pain is under control",
                "priority": "routine",
                "condition": [condition(current), condition("%worstPain.band = 'ok'")],
            },
        ],
    }


def activity_definition() -> JsonObject:
    return {
        "resourceType": "ActivityDefinition",
        "id": "worst-pain-clinic-referral",
        "url": ACTIVITY,
        "version": "1.0.0",
        "title": "Refer to the pain clinic",
        "status": "active",
        "kind": "ServiceRequest",
        "code": {"coding": [{"system": ORDERS, "code": "pain-clinic", "display": "Pain clinic"}]},
        "intent": "order",
    }


def descriptor() -> JsonObject:
    return {
        "id": SERVICE,
        "hook": "patient-view",
        "title": "Worst pain",
        "description": "Scores the worst-pain questionnaire and refers when it is bad.",
        "prefetch": {
            "patient": "Patient/{{context.patientId}}",
            "worstPainResponses": "QuestionnaireResponse?subject=Patient/{{context.patientId}}"
            f"&questionnaire={{{{canonicals:{URL}}}}}&_sort=-authored&_count=50",
        },
        "instruments": [URL],
        "planDefinition": PLAN,
    }


def site_content(root: Path) -> Path:
    """The shipped content plus the site's instrument and pathway, each a JSON file of its own."""
    for folder in SHIPPED:
        shutil.copytree(default_content_root() / folder, root / folder)
    added = {
        "questionnaires/Questionnaire-worst-pain.json": worst_pain_questionnaire(),
        "plan_definitions/PlanDefinition-worst-pain-care.json": plan_definition(),
        "plan_definitions/ActivityDefinition-worst-pain-clinic-referral.json": activity_definition(),
        f"hooks/{SERVICE}.json": descriptor(),
    }
    for name, resource in added.items():
        (root / name).write_text(json.dumps(resource), encoding="utf-8")
    return root


@pytest.fixture
async def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.syspath_prepend(str(write_scorer_distribution(tmp_path / "site-packages")))
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'stratcare.db'}",
        auth="off",
        content_dir=site_content(tmp_path / "content"),
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://stratcare.test") as http:
            yield http


def hook_call(a: str, b: str) -> JsonObject:
    answered = response(URL, {"a": a, "b": b}, SYSTEM, id="wp-1")
    answered["questionnaire"] = f"{URL}|2.0.0"
    answered["authored"] = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    patient = {"resourceType": "Patient", "id": PATIENT_ID, "birthDate": "1970-05-14"}
    bundle = {"resourceType": "Bundle", "type": "searchset", "total": 1, "entry": [{"resource": answered}]}
    return {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/gp", "patientId": PATIENT_ID},
        "prefetch": {"patient": patient, "worstPainResponses": bundle},
    }


async def test_discovery_lists_the_added_service(client: httpx.AsyncClient) -> None:
    discovery = await client.get("/cds-services")
    assert discovery.status_code == 200
    services = {service["id"]: service for service in discovery.json()["services"]}
    assert services[SERVICE]["hook"] == "patient-view"
    assert URL in services[SERVICE]["prefetch"]["worstPainResponses"]
    assert "start-back-patient-view" in services, "the shipped services are still there"


async def test_the_hook_scores_with_the_plugin_scorer_and_answers_with_the_pathway(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post(f"/cds-services/{SERVICE}", json=hook_call("some", "severe"))
    assert answer.status_code == 200, answer.text
    [card] = answer.json()["cards"]
    assert card["summary"] == "Worst pain is bad: refer to the pain clinic"
    assert card["indicator"] == "warning"
    # The plug-in's rule (the heaviest answer, 3), not a weighted sum (4), from the content's card line.
    assert "Worst pain 3/3 (Bad)" in card["detail"]
    [suggestion] = card["suggestions"]
    [action] = suggestion["actions"]
    request = action["resource"]
    assert request["instantiatesCanonical"] == [f"{ACTIVITY}|1.0.0"]
    assert request["supportingInfo"][0]["reference"] == "QuestionnaireResponse/wp-1"


async def test_the_pathway_follows_the_band_the_scorer_gives(client: httpx.AsyncClient) -> None:
    answer = await client.post(f"/cds-services/{SERVICE}", json=hook_call("none", "some"))
    assert answer.status_code == 200, answer.text
    assert [card["summary"] for card in answer.json()["cards"]] == ["Worst pain is under control"]
