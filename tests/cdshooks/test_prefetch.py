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
from stratcare.json_types import JsonObject
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


def condition(number: int) -> dict[str, object]:
    return {"resource": {"resourceType": "Condition", "id": f"c{number}"}, "search": {"mode": "match"}}


def page(entries: list[dict[str, object]], total: int, next_url: str | None = None) -> dict[str, object]:
    links = [{"relation": "self", "url": f"{FHIR}/Condition?patient=pat1&clinical-status=active"}]
    if next_url is not None:
        links.append({"relation": "next", "url": next_url})
    return {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links, "entry": entries}


PAGE_2 = f"{FHIR}/Condition?patient=pat1&clinical-status=active&_offset=2"
FIRST = page([condition(1), condition(2)], 3, PAGE_2)
SECOND = page([condition(3)], 3)


def condition_ids(resolved_value: JsonObject | None) -> list[str]:
    assert resolved_value is not None
    return [entry["resource"]["id"] for entry in resolved_value["entry"]]


class TestPaging:
    """Every page of a search is read (a red flag may be on page 2); if one cannot be, the key is 412."""

    @respx.mock
    async def test_a_fetched_search_is_read_to_its_last_page_with_the_token(self) -> None:
        respx.get(f"{FHIR}/Condition", params={"_offset": "2"}).mock(
            return_value=httpx.Response(200, json=SECOND)
        )
        respx.get(f"{FHIR}/Condition").mock(return_value=httpx.Response(200, json=FIRST))
        request = make_request(
            fhirServer=FHIR,
            fhirAuthorization=lent_token("tok"),
            prefetch={"patient": PATIENT, "encounter": ENCOUNTER},
        )
        async with httpx.AsyncClient() as http:
            resolved = await resolve_prefetch(TEMPLATES, request, HttpxFhirClient(http), limits())
        assert condition_ids(resolved.values["conditions"]) == ["c1", "c2", "c3"]
        assert respx.calls.last.request.url == PAGE_2
        assert respx.calls.last.request.headers["Authorization"] == "Bearer tok"
        assert [link["relation"] for link in resolved.values["conditions"]["link"]] == ["self"]  # type: ignore[index]

    @respx.mock
    async def test_a_paged_bundle_the_ehr_sent_is_completed_from_fhir_server(self) -> None:
        respx.get(PAGE_2).mock(return_value=httpx.Response(200, json=SECOND))
        request = make_request(
            fhirServer=FHIR, prefetch={"patient": PATIENT, "encounter": ENCOUNTER, "conditions": FIRST}
        )
        async with httpx.AsyncClient() as http:
            resolved = await resolve_prefetch(TEMPLATES, request, HttpxFhirClient(http), limits())
        assert condition_ids(resolved.values["conditions"]) == ["c1", "c2", "c3"]
        assert resolved.fetched == ()

    async def test_a_paged_bundle_without_fhir_server_is_412(self) -> None:
        request = make_request(prefetch={"patient": PATIENT, "encounter": ENCOUNTER, "conditions": FIRST})
        async with httpx.AsyncClient() as http:
            with pytest.raises(PrefetchUnavailable) as raised:
                await resolve_prefetch(TEMPLATES, request, HttpxFhirClient(http), limits())
        (issue,) = raised.value.issues
        assert issue.expression == ("prefetch.conditions",)
        assert issue.code == "incomplete"
        assert "could not be read in full" in issue.diagnostics

    @respx.mock
    async def test_a_next_link_off_fhir_server_is_not_followed(self) -> None:
        elsewhere = respx.get(url__startswith="https://attacker.example").mock(
            return_value=httpx.Response(200)
        )
        first = page([condition(1)], 2, "https://attacker.example/fhir/Condition?page=2")
        request = make_request(
            fhirServer=FHIR,
            fhirAuthorization=lent_token("tok"),
            prefetch={"patient": PATIENT, "encounter": ENCOUNTER, "conditions": first},
        )
        async with httpx.AsyncClient() as http:
            with pytest.raises(PrefetchUnavailable, match="could not be read in full") as raised:
                await resolve_prefetch(TEMPLATES, request, HttpxFhirClient(http), limits())
        assert "not on fhirServer" in raised.value.issues[0].diagnostics
        assert not elsewhere.called

    @respx.mock
    async def test_more_pages_than_the_limit_is_412(self) -> None:
        respx.get(PAGE_2).mock(return_value=httpx.Response(200, json=SECOND))
        request = make_request(
            fhirServer=FHIR, prefetch={"patient": PATIENT, "encounter": ENCOUNTER, "conditions": FIRST}
        )
        async with httpx.AsyncClient() as http:
            with pytest.raises(PrefetchUnavailable) as raised:
                await resolve_prefetch(TEMPLATES, request, HttpxFhirClient(http), limits(max_pages=1))
        assert "more than 1 pages" in raised.value.issues[0].diagnostics

    @respx.mock
    @pytest.mark.parametrize("status", [503, 410])
    async def test_a_page_that_fails_is_412(self, status: int) -> None:
        respx.get(PAGE_2).mock(return_value=httpx.Response(status))
        request = make_request(
            fhirServer=FHIR, prefetch={"patient": PATIENT, "encounter": ENCOUNTER, "conditions": FIRST}
        )
        async with httpx.AsyncClient() as http:
            with pytest.raises(PrefetchUnavailable) as raised:
                await resolve_prefetch(TEMPLATES, request, HttpxFhirClient(http), limits())
        assert raised.value.issues[0].expression == ("prefetch.conditions",)

    @respx.mock
    async def test_one_deadline_covers_every_page(self) -> None:
        """Each page answers well within the budget; together they do not: the call is 412."""

        async def slow(request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(0.2)
            return httpx.Response(200, json=SECOND if "_offset" in str(request.url) else FIRST)

        respx.get(url__startswith=f"{FHIR}/Condition").mock(side_effect=slow)
        request = make_request(fhirServer=FHIR, prefetch={"patient": PATIENT, "encounter": ENCOUNTER})
        async with httpx.AsyncClient() as http:
            with pytest.raises(PrefetchUnavailable, match="did not answer within") as raised:
                await resolve_prefetch(TEMPLATES, request, HttpxFhirClient(http), limits(timeout_seconds=0.3))
        assert [issue.expression for issue in raised.value.issues] == [("prefetch.conditions",)]

    async def test_a_bundle_short_of_its_total_is_412(self) -> None:
        short = page([condition(1)], 2)
        request = make_request(prefetch={"patient": PATIENT, "encounter": ENCOUNTER, "conditions": short})
        async with httpx.AsyncClient() as http:
            with pytest.raises(PrefetchUnavailable) as raised:
                await resolve_prefetch(TEMPLATES, request, HttpxFhirClient(http), limits())
        assert "1 of its 2 matches" in raised.value.issues[0].diagnostics


class TestSentValuesAreChecked:
    """What the EHR sends must fit its template like a fetched answer; if not, it is fetched or 412."""

    @respx.mock
    async def test_a_wrong_resource_is_fetched_when_fhir_server_is_given(self) -> None:
        route = respx.get(f"{FHIR}/Patient/pat1").mock(return_value=httpx.Response(200, json=PATIENT))
        observation = {"resourceType": "Observation", "id": "pat1", "status": "final"}
        request = make_request(
            fhirServer=FHIR,
            prefetch={"patient": observation, "encounter": ENCOUNTER, "conditions": EMPTY_BUNDLE},
        )
        async with httpx.AsyncClient() as http:
            resolved = await resolve_prefetch(TEMPLATES, request, HttpxFhirClient(http), limits())
        assert route.called
        assert resolved.values["patient"] == PATIENT
        assert resolved.fetched == ("patient",)
        assert "expected a Patient, got 'Observation'" in resolved.refused["patient"]

    @pytest.mark.parametrize(
        "patient",
        [
            {"resourceType": "Observation", "id": "pat1", "status": "final"},
            {"resourceType": "Patient", "id": "someone-else"},
            {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": PATIENT}]},
        ],
    )
    async def test_a_wrong_resource_without_fhir_server_is_412_naming_the_key(
        self, patient: dict[str, object]
    ) -> None:
        request = make_request(
            prefetch={"patient": patient, "encounter": ENCOUNTER, "conditions": EMPTY_BUNDLE}
        )
        async with httpx.AsyncClient() as http:
            with pytest.raises(PrefetchUnavailable) as raised:
                await resolve_prefetch(TEMPLATES, request, HttpxFhirClient(http), limits())
        (issue,) = raised.value.issues
        assert issue.expression == ("prefetch.patient",)
        assert "not what the template asks for" in issue.diagnostics

    @respx.mock
    async def test_a_search_that_ignored_a_filter_is_fetched_again(self) -> None:
        route = respx.get(f"{FHIR}/Condition").mock(return_value=httpx.Response(200, json=page([], 0)))
        ignored = page([], 0)
        ignored["link"] = [{"relation": "self", "url": f"{FHIR}/Condition?patient=pat1"}]
        request = make_request(
            fhirServer=FHIR, prefetch={"patient": PATIENT, "encounter": ENCOUNTER, "conditions": ignored}
        )
        async with httpx.AsyncClient() as http:
            resolved = await resolve_prefetch(TEMPLATES, request, HttpxFhirClient(http), limits())
        assert route.called
        assert "ignored clinical-status" in resolved.refused["conditions"]

    @respx.mock
    async def test_a_fetched_search_that_ignored_a_filter_is_412(self) -> None:
        ignored = page([], 0)
        ignored["link"] = [{"relation": "self", "url": f"{FHIR}/Condition?patient=pat1"}]
        respx.get(f"{FHIR}/Condition").mock(return_value=httpx.Response(200, json=ignored))
        request = make_request(fhirServer=FHIR, prefetch={"patient": PATIENT, "encounter": ENCOUNTER})
        async with httpx.AsyncClient() as http:
            with pytest.raises(PrefetchUnavailable) as raised:
                await resolve_prefetch(TEMPLATES, request, HttpxFhirClient(http), limits())
        (issue,) = raised.value.issues
        assert issue.expression == ("prefetch.conditions",)
        assert "ignored clinical-status" in issue.diagnostics
