"""The service's own searches against a real FHIR server: versioned canonicals, every page, fail closed.

The records are written to the server as an EHR holds them; the hook call then names the server as
``fhirServer`` and leaves the keys to fetch out of its prefetch (or sends the first page of a search, as an
EHR that does not page for the service would).
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

import httpx
import pytest

from stratcare.demo.scenarios import load_scenarios
from support.cds_requests import lent_token
from support.fhir_server import FhirTestServer

from .conftest import HookBody, call_hook, make_settings, running_app

pytestmark = pytest.mark.integration
SNOMED = "http://snomed.info/sct"
CAUDA_EQUINA = "192970008"  # SNOMED CT: cauda equina syndrome (in the red-flag ValueSet)
LOW_BACK_PAIN = "279039007"  # SNOMED CT: low back pain
CONDITIONS_PER_PAGE = 100  # the hook's Condition template asks for _count=100
CONDITIONS_QUERY = "clinical-status=active,recurrence,relapse&_count=100"
# The in-memory server reads every stored resource for each search, so late in a full test run its searches
# slow down; these tests are about what is read, not how fast, so the prefetch deadline is generous.
PREFETCH_DEADLINE_SECONDS = 30.0


def settings(sqlite_url: str, **overrides: Any) -> Any:
    return make_settings(
        sqlite_url,
        fhir_timeout_seconds=PREFETCH_DEADLINE_SECONDS,
        hook_deadline_seconds=PREFETCH_DEADLINE_SECONDS,
        **overrides,
    )


def high_risk_prefetch() -> dict[str, Any]:
    """The demo's high-risk prefetch, its dates moved to now (so its screens are current)."""
    (scenario,) = [scenario for scenario in load_scenarios() if scenario.name == "high-risk"]
    return copy.deepcopy(scenario.request["prefetch"])


BORN = high_risk_prefetch()["patient"]["birthDate"]  # an adult: stratified care applies


def condition(patient: str, code: str, display: str) -> dict[str, Any]:
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
        "code": {"coding": [{"system": SNOMED, "code": code, "display": display}]},
        "subject": {"reference": patient},
    }


def screens(patient: str) -> list[dict[str, Any]]:
    """The demo's high-risk STarT Back and NIH responses; both name their Questionnaire as ``url|1.0.0``."""
    prefetch = high_risk_prefetch()
    found = []
    for key in ("startBackResponses", "nihResponses"):
        (entry,) = prefetch[key]["entry"]
        response = {name: value for name, value in entry["resource"].items() if name not in ("id", "meta")}
        assert "|" in response["questionnaire"]
        found.append(response | {"subject": {"reference": patient}})
    return found


async def create_record(http: httpx.AsyncClient, extra: list[dict[str, Any]]) -> tuple[str, str]:
    """A patient, an encounter, the high-risk screens and ``extra`` (``{patient}`` in references)."""
    patient_url = f"urn:uuid:{uuid.uuid4()}"
    encounter = {
        "resourceType": "Encounter",
        "status": "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": patient_url},
    }
    resources = [encounter, *screens(patient_url), *(_pointed(item, patient_url) for item in extra)]
    entries: list[dict[str, Any]] = [
        {"fullUrl": patient_url, "resource": {"resourceType": "Patient", "active": True, "birthDate": BORN}},
        *({"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": resource} for resource in resources),
    ]
    for entry in entries:
        entry["request"] = {"method": "POST", "url": entry["resource"]["resourceType"]}
    response = await http.post("", json={"resourceType": "Bundle", "type": "transaction", "entry": entries})
    response.raise_for_status()
    locations = [entry["response"]["location"] for entry in response.json()["entry"]]
    return locations[0].split("/")[1], locations[1].split("/")[1]


def _pointed(resource: dict[str, Any], patient_url: str) -> dict[str, Any]:
    return resource | {"subject": {"reference": patient_url}}


def hook_body(server: FhirTestServer, patient: str, encounter: str, prefetch: dict[str, Any]) -> HookBody:
    body: HookBody = {
        "hook": "encounter-start",
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": server.base_url,
        "context": {"userId": "Practitioner/gp", "patientId": patient, "encounterId": encounter},
        "prefetch": prefetch,
    }
    if server.bearer_token:
        body["fhirAuthorization"] = lent_token(server.bearer_token)
    return body


def back_pain(count: int) -> list[dict[str, Any]]:
    return [condition("", LOW_BACK_PAIN, "Low back pain") for _ in range(count)]


async def record_with_cauda_equina_on_page_2(http: httpx.AsyncClient) -> tuple[str, str]:
    conditions = [*back_pain(CONDITIONS_PER_PAGE + 20), condition("", CAUDA_EQUINA, "Cauda equina syndrome")]
    patient, encounter = await create_record(http, conditions)
    first = await first_condition_page(http, patient)
    assert first["total"] == CONDITIONS_PER_PAGE + 21
    assert CAUDA_EQUINA not in str(first["entry"]), "precondition: the red flag must not be on page 1"
    return patient, encounter


async def first_condition_page(http: httpx.AsyncClient, patient: str) -> dict[str, Any]:
    response = await http.get(f"/Condition?patient={patient}&{CONDITIONS_QUERY}")
    response.raise_for_status()
    page: dict[str, Any] = response.json()
    return page


def indicators(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [card["indicator"] for card in response.json()["cards"]]


def suggestions(response: httpx.Response) -> list[Any]:
    return [suggestion for card in response.json()["cards"] for suggestion in card.get("suggestions", [])]


class TestVersionedCanonicals:
    async def test_screens_naming_url_and_version_are_found_and_scored(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient
    ) -> None:
        patient, encounter = await create_record(fhir_http, [])
        async with running_app(settings(sqlite_url)) as client:
            response = await call_hook(client, hook_body(fhir_server, patient, encounter, {}))
        assert indicators(response) == ["warning"]
        assert "high risk" in response.json()["cards"][0]["summary"]


class TestPaging:
    async def test_a_red_flag_on_page_2_of_a_fetched_search_wins(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient
    ) -> None:
        patient, encounter = await record_with_cauda_equina_on_page_2(fhir_http)
        async with running_app(settings(sqlite_url)) as client:
            response = await call_hook(client, hook_body(fhir_server, patient, encounter, {}))
        assert indicators(response) == ["critical"]
        assert suggestions(response) == []

    async def test_a_first_page_sent_as_prefetch_is_completed_from_fhir_server(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient
    ) -> None:
        patient, encounter = await record_with_cauda_equina_on_page_2(fhir_http)
        prefetch = {"conditions": await first_condition_page(fhir_http, patient)}
        async with running_app(settings(sqlite_url)) as client:
            response = await call_hook(client, hook_body(fhir_server, patient, encounter, prefetch))
        assert indicators(response) == ["critical"]
        assert suggestions(response) == []

    async def test_a_first_page_without_fhir_server_is_412_never_a_referral(
        self, sqlite_url: str, fhir_http: httpx.AsyncClient
    ) -> None:
        patient, encounter = await record_with_cauda_equina_on_page_2(fhir_http)
        prefetch = high_risk_prefetch()
        first = await first_condition_page(fhir_http, patient)
        for entry in first["entry"]:
            entry["resource"]["subject"] = {"reference": "Patient/demo-high"}
        prefetch["conditions"] = first
        body: HookBody = {
            "hook": "encounter-start",
            "hookInstance": str(uuid.uuid4()),
            "context": {
                "userId": "Practitioner/gp",
                "patientId": "demo-high",
                "encounterId": "demo-high-enc",
            },
            "prefetch": prefetch,
        }
        async with running_app(settings(sqlite_url)) as client:
            response = await call_hook(client, body)
        assert response.status_code == 412, response.text
        (issue,) = response.json()["issue"]
        assert issue["expression"] == ["prefetch.conditions"]
        assert "no fhirServer was given to read them" in issue["diagnostics"]

    async def test_more_pages_than_the_limit_is_412(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient
    ) -> None:
        patient, encounter = await record_with_cauda_equina_on_page_2(fhir_http)
        async with running_app(settings(sqlite_url, fhir_max_pages=1)) as client:
            response = await call_hook(client, hook_body(fhir_server, patient, encounter, {}))
        assert response.status_code == 412, response.text
        issues = {tuple(issue["expression"]): issue["diagnostics"] for issue in response.json()["issue"]}
        assert list(issues) == [("prefetch.conditions",)], issues
        assert "more than 1 pages" in issues[("prefetch.conditions",)]
