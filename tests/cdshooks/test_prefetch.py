"""Prefetch per CDS Hooks 2.0: tokens, supplied values, null, OperationOutcome, fetching, 412."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
import respx
from pydantic import SecretStr

from stratcare.cdshooks.models import HookRequest
from stratcare.cdshooks.prefetch import PrefetchLimits, render_template, resolve_prefetch
from stratcare.errors import PrefetchUnavailable
from stratcare.fhir.client import HttpxFhirClient
from support.cds_requests import lent_token

FHIR = "https://ehr.example.org/fhir"
TEMPLATES = {
    "patient": "Patient/{{context.patientId}}",
    "encounter": "Encounter/{{context.encounterId}}",
    "conditions": "Condition?patient={{context.patientId}}&clinical-status=active",
}
CONTEXT = {"userId": "Practitioner/p1", "patientId": "pat1", "encounterId": "enc1"}
PATIENT = {"resourceType": "Patient", "id": "pat1"}
ENCOUNTER = {"resourceType": "Encounter", "id": "enc1", "subject": {"reference": "Patient/pat1"}}
EMPTY_BUNDLE = {"resourceType": "Bundle", "type": "searchset", "total": 0}


def limits(timeout_seconds: float = 2.0, max_pages: int = 10) -> PrefetchLimits:
    return PrefetchLimits(timeout_seconds=timeout_seconds, max_pages=max_pages)


def make_request(**fields: object) -> HookRequest:
    body: dict[str, object] = {
        "hook": "encounter-start",
        "hookInstance": str(uuid.uuid4()),
        "context": CONTEXT,
    }
    body.update(fields)
    return HookRequest.model_validate(body)


class TestRenderTemplate:
    def test_context_tokens_are_replaced(self) -> None:
        assert render_template("Patient/{{context.patientId}}", CONTEXT) == "Patient/pat1"

    def test_user_tokens_follow_the_user_resource_type(self) -> None:
        assert render_template("Practitioner/{{userPractitionerId}}", CONTEXT) == "Practitioner/p1"
        assert render_template("PractitionerRole/{{userPractitionerRoleId}}", CONTEXT) is None

    def test_a_token_without_value_makes_the_key_inapplicable(self) -> None:
        assert render_template("Encounter/{{context.encounterId}}", {"patientId": "x"}) is None

    def test_object_valued_context_fields_are_not_tokens(self) -> None:
        assert render_template("X/{{context.draftOrders}}", {"draftOrders": {"a": 1}}) is None


class TestResolvePrefetch:
    async def test_everything_supplied_needs_no_server(self) -> None:
        request = make_request(
            prefetch={"patient": PATIENT, "encounter": ENCOUNTER, "conditions": EMPTY_BUNDLE}
        )
        async with httpx.AsyncClient() as http:
            resolved = await resolve_prefetch(TEMPLATES, request, HttpxFhirClient(http), limits(2.0))
        assert resolved.fetched == ()
        assert resolved.values["patient"] == PATIENT

    async def test_null_means_no_data_and_is_not_fetched(self) -> None:
        request = make_request(prefetch={"patient": PATIENT, "encounter": None, "conditions": None})
        async with httpx.AsyncClient() as http:
            resolved = await resolve_prefetch(TEMPLATES, request, HttpxFhirClient(http), limits(2.0))
        assert resolved.values["encounter"] is None
        assert resolved.fetched == ()

    @respx.mock
    async def test_missing_keys_are_fetched_with_the_bearer_token(self) -> None:
        route = respx.get(f"{FHIR}/Condition", params={"patient": "pat1"}).mock(
            return_value=httpx.Response(200, json=EMPTY_BUNDLE)
        )
        request = make_request(
            fhirServer=FHIR,
            fhirAuthorization=lent_token("secret-token"),
            prefetch={"patient": PATIENT, "encounter": ENCOUNTER},
        )
        async with httpx.AsyncClient() as http:
            resolved = await resolve_prefetch(TEMPLATES, request, HttpxFhirClient(http), limits(2.0))
        assert resolved.fetched == ("conditions",)
        assert resolved.values["conditions"] == EMPTY_BUNDLE
        assert route.calls.last.request.headers["Authorization"] == "Bearer secret-token"

    @respx.mock
    async def test_operation_outcome_in_place_of_data_is_fetched_again(self) -> None:
        respx.get(f"{FHIR}/Patient/pat1").mock(return_value=httpx.Response(200, json=PATIENT))
        outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]}
        request = make_request(
            fhirServer=FHIR, prefetch={"patient": outcome, "encounter": ENCOUNTER, "conditions": EMPTY_BUNDLE}
        )
        async with httpx.AsyncClient() as http:
            resolved = await resolve_prefetch(TEMPLATES, request, HttpxFhirClient(http), limits(2.0))
        assert resolved.values["patient"] == PATIENT
        assert resolved.fetched == ("patient",)

    @respx.mock
    async def test_not_found_reads_as_no_data(self) -> None:
        respx.get(f"{FHIR}/Encounter/enc1").mock(return_value=httpx.Response(404))
        request = make_request(fhirServer=FHIR, prefetch={"patient": PATIENT, "conditions": EMPTY_BUNDLE})
        async with httpx.AsyncClient() as http:
            resolved = await resolve_prefetch(TEMPLATES, request, HttpxFhirClient(http), limits(2.0))
        assert resolved.values["encounter"] is None

    async def test_missing_data_without_fhir_server_is_412(self) -> None:
        request = make_request(prefetch={"patient": PATIENT})
        async with httpx.AsyncClient() as http:
            with pytest.raises(PrefetchUnavailable) as caught:
                await resolve_prefetch(TEMPLATES, request, HttpxFhirClient(http), limits(2.0))
        assert caught.value.status_code == 412
        assert [issue.expression for issue in caught.value.issues] == [
            ("prefetch.conditions",),
            ("prefetch.encounter",),
        ]

    @respx.mock
    async def test_server_error_is_412_naming_the_key(self) -> None:
        respx.get(f"{FHIR}/Condition").mock(return_value=httpx.Response(503))
        request = make_request(fhirServer=FHIR, prefetch={"patient": PATIENT, "encounter": ENCOUNTER})
        async with httpx.AsyncClient() as http:
            with pytest.raises(PrefetchUnavailable) as caught:
                await resolve_prefetch(TEMPLATES, request, HttpxFhirClient(http), limits(2.0))
        assert "503" in caught.value.issues[0].diagnostics

    @respx.mock
    async def test_a_hanging_server_is_bounded_by_the_timeout(self) -> None:
        async def hang(_: httpx.Request) -> httpx.Response:
            await asyncio.sleep(30)
            return httpx.Response(200, json=EMPTY_BUNDLE)

        respx.get(f"{FHIR}/Condition").mock(side_effect=hang)
        request = make_request(fhirServer=FHIR, prefetch={"patient": PATIENT, "encounter": ENCOUNTER})
        async with httpx.AsyncClient() as http:
            with pytest.raises(PrefetchUnavailable, match="did not answer"):
                await resolve_prefetch(TEMPLATES, request, HttpxFhirClient(http), limits(0.05))

    @respx.mock
    async def test_missing_keys_are_fetched_in_parallel(self) -> None:
        in_flight = 0
        most_in_flight = 0

        async def slow(request: httpx.Request) -> httpx.Response:
            nonlocal in_flight, most_in_flight
            in_flight += 1
            most_in_flight = max(most_in_flight, in_flight)
            await asyncio.sleep(0.01)
            in_flight -= 1
            body = {"Condition": EMPTY_BUNDLE, "Patient": PATIENT, "Encounter": ENCOUNTER}[
                request.url.path.split("/")[2]
            ]
            return httpx.Response(200, json=body)

        respx.get(url__startswith=FHIR).mock(side_effect=slow)
        async with httpx.AsyncClient() as http:
            await resolve_prefetch(
                TEMPLATES, make_request(fhirServer=FHIR), HttpxFhirClient(http), limits(2.0)
            )
        assert most_in_flight == 3


def test_token_is_never_in_the_model_dump() -> None:
    token = SecretStr("secret-token")
    assert "secret-token" not in repr(token)


class TestFetchedAnswers:
    """A 2xx answer that is not the data asked for must never read as "no data" (it would hide a screen)."""

    @respx.mock
    @pytest.mark.parametrize(
        "answer",
        [
            {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "processing"}]},
            {"resourceType": "Patient", "id": "pat1"},  # a resource where a search Bundle was asked for
        ],
    )
    async def test_a_search_answered_with_something_else_is_412(self, answer: dict[str, object]) -> None:
        respx.get(url__startswith=f"{FHIR}/Condition").mock(return_value=httpx.Response(200, json=answer))
        request = make_request(fhirServer=FHIR, prefetch={"patient": PATIENT, "encounter": ENCOUNTER})
        async with httpx.AsyncClient() as http:
            with pytest.raises(PrefetchUnavailable) as raised:
                await resolve_prefetch(TEMPLATES, request, HttpxFhirClient(http), limits(2.0))
        assert [issue.expression for issue in raised.value.issues] == [("prefetch.conditions",)]

    @respx.mock
    async def test_a_read_answered_with_another_resource_type_is_412(self) -> None:
        respx.get(f"{FHIR}/Encounter/enc1").mock(return_value=httpx.Response(200, json=PATIENT))
        request = make_request(fhirServer=FHIR, prefetch={"patient": PATIENT, "conditions": EMPTY_BUNDLE})
        async with httpx.AsyncClient() as http:
            with pytest.raises(PrefetchUnavailable) as raised:
                await resolve_prefetch(TEMPLATES, request, HttpxFhirClient(http), limits(2.0))
        assert "did not answer with the data asked for" in raised.value.issues[0].diagnostics
