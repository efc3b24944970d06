"""The hook endpoint checks what the EHR sends against the templates and the hook it published."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from api.conftest import SERVICE
from support.cds_requests import lent_token

RequestFor = Callable[[str], dict[str, Any]]
CALL = f"/cds-services/{SERVICE}"
START_BACK = "http://stratcare.org/fhir/Questionnaire/start-back"


async def test_discovery_shows_templates_that_find_both_canonical_forms(client: httpx.AsyncClient) -> None:
    services = {service["id"]: service for service in (await client.get("/cds-services")).json()["services"]}
    template = services[SERVICE]["prefetch"]["startBackResponses"]
    assert f"&questionnaire={START_BACK},{START_BACK}|1.0.0&" in template
    assert "{{canonicals" not in template


async def test_a_token_lent_for_another_patient_is_400(
    client: httpx.AsyncClient, request_for: RequestFor
) -> None:
    body = request_for("high-risk")
    body["fhirServer"] = "https://ehr.example.org/fhir"
    body["fhirAuthorization"] = lent_token("tok") | {"patient": "someone-else"}
    response = await client.post(CALL, json=body)
    assert response.status_code == 400
    (issue,) = response.json()["issue"]
    assert issue["expression"] == ["fhirAuthorization.patient"]


async def test_a_token_lent_for_the_patient_in_context_is_used(
    client: httpx.AsyncClient, request_for: RequestFor
) -> None:
    body = request_for("high-risk")
    body["fhirServer"] = "https://ehr.example.org/fhir"
    body["fhirAuthorization"] = lent_token("tok") | {"patient": body["context"]["patientId"]}
    response = await client.post(CALL, json=body)
    assert response.status_code == 200, response.text


async def test_a_patient_as_the_user_of_encounter_start_is_400(
    client: httpx.AsyncClient, request_for: RequestFor
) -> None:
    body = request_for("high-risk")
    body["context"]["userId"] = f"Patient/{body['context']['patientId']}"
    response = await client.post(CALL, json=body)
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["context.userId"]


async def test_a_paged_condition_list_without_fhir_server_is_412_never_a_referral(
    client: httpx.AsyncClient, request_for: RequestFor
) -> None:
    body = request_for("high-risk")
    conditions = body["prefetch"]["conditions"] or {"resourceType": "Bundle", "type": "searchset"}
    conditions["link"] = [{"relation": "next", "url": "https://ehr.example.org/fhir/Condition?page=2"}]
    body["prefetch"]["conditions"] = conditions
    response = await client.post(CALL, json=body)
    assert response.status_code == 412
    (issue,) = response.json()["issue"]
    assert issue["expression"] == ["prefetch.conditions"]
    assert "could not be read in full" in issue["diagnostics"]
