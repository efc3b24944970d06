"""SNOMED CT hierarchy through an optional terminology server: answered, cached, bounded, never hanging."""

from __future__ import annotations

import asyncio
import copy
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from stratcare.cdshooks.context import parse_context
from stratcare.cdshooks.services import ServiceRegistry
from stratcare.content import ContentRepository
from stratcare.demo.scenarios import load_scenarios
from stratcare.engine.decision import StratifiedCareDecider
from stratcare.engine.hierarchy import HierarchyLookup
from stratcare.engine.record import build_record
from stratcare.fhir.terminology_server import HttpxTerminologyServer
from stratcare.pathways.subsumption import Subsumption
from support.bundles import searchset

BASE = "https://tx.example.org/fhir"
VALIDATE = f"{BASE}/ValueSet/$validate-code"
SNOMED = "http://snomed.info/sct"
MALIGNANCY = "363346000"
# A malignancy concept the shipped expansion does not list: only a server can place it in the hierarchy.
UNLISTED_CHILD = "94503003"
SHIPPED_CHILD = "128462008"  # secondary malignant neoplastic disease, in the shipped expansion
QUESTION = Subsumption(SNOMED, MALIGNANCY, UNLISTED_CHILD)
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def parameters(result: bool) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": [{"name": "result", "valueBoolean": result}]}


async def hang(_request: httpx.Request) -> httpx.Response:
    await asyncio.Event().wait()  # never set: a server that accepts the request and never answers
    raise AssertionError("unreachable")


def only_the_unlisted_child(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=parameters(request.url.params["code"] == UNLISTED_CHILD))


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TestHierarchyLookup:
    @respx.mock
    async def test_answers_are_cached(self) -> None:
        route = respx.get(VALIDATE).mock(return_value=httpx.Response(200, json=parameters(True)))
        clock = FakeClock()
        async with httpx.AsyncClient() as http:
            lookup = HierarchyLookup(HttpxTerminologyServer(http, BASE), timeout_seconds=5, monotonic=clock)
            assert await lookup.answer([QUESTION]) == {QUESTION: True}
            assert await lookup.answer([QUESTION]) == {QUESTION: True}
            assert route.call_count == 1
            clock.now = 25 * 3600.0  # past the cache lifetime
            assert await lookup.answer([QUESTION]) == {QUESTION: True}
            assert route.call_count == 2

    @respx.mock
    async def test_a_hanging_server_gives_no_answer_within_the_bound(self) -> None:
        respx.get(VALIDATE).mock(side_effect=hang)
        async with httpx.AsyncClient() as http:
            lookup = HierarchyLookup(HttpxTerminologyServer(http, BASE), timeout_seconds=0.05)
            assert await lookup.answer([QUESTION]) == {}

    @respx.mock
    async def test_failures_are_not_cached(self) -> None:
        route = respx.get(VALIDATE).mock(
            side_effect=[httpx.ConnectError("down"), httpx.Response(200, json=parameters(True))]
        )
        async with httpx.AsyncClient() as http:
            lookup = HierarchyLookup(HttpxTerminologyServer(http, BASE), timeout_seconds=5)
            assert await lookup.answer([QUESTION]) == {}
            assert await lookup.answer([QUESTION]) == {QUESTION: True}
            assert route.call_count == 2


def red_flag_request(code: str) -> dict[str, Any]:
    """The demo red-flag call with its red-flag Condition coded as ``code`` (SNOMED CT)."""
    [scenario] = [s for s in load_scenarios() if s.name == "red-flag"]
    request = copy.deepcopy(scenario.request)
    entries = request["prefetch"]["conditions"]["entry"]
    entries[1]["resource"]["code"] = {"coding": [{"system": SNOMED, "code": code}], "text": "Spinal cancer"}
    return request


async def decide(request: dict[str, Any], lookup: HierarchyLookup | None) -> list[str]:
    content = ContentRepository.load()
    registry = ServiceRegistry.from_content(content)
    decider = StratifiedCareDecider.from_content(content, registry, lookup)
    service = registry.get("start-back-encounter-start")
    context = parse_context(request["hook"], request["context"])
    record = build_record(request["prefetch"], context.patientId, context.encounterId)
    answers = await decider.consult_terminology(service, context, record)
    decision = decider.decide(service, context, record, NOW, uuid.uuid4, answers)
    return [issued.pathway_action for issued in decision.cards]


class TestRedFlagBySnomedHierarchy:
    @respx.mock
    async def test_a_child_placed_by_the_terminology_server_is_a_red_flag(self) -> None:
        route = respx.get(VALIDATE).mock(side_effect=only_the_unlisted_child)
        async with httpx.AsyncClient() as http:
            lookup = HierarchyLookup(HttpxTerminologyServer(http, BASE), timeout_seconds=5)
            assert await decide(red_flag_request(UNLISTED_CHILD), lookup) == ["red-flag"]
        asked = {call.request.url.params["url"] for call in route.calls}
        assert f"http://snomed.info/sct?fhir_vs=isa/{MALIGNANCY}" in asked

    @respx.mock
    async def test_a_child_the_server_denies_is_not(self) -> None:
        respx.get(VALIDATE).mock(return_value=httpx.Response(200, json=parameters(False)))
        async with httpx.AsyncClient() as http:
            lookup = HierarchyLookup(HttpxTerminologyServer(http, BASE), timeout_seconds=5)
            assert "red-flag" not in await decide(red_flag_request(UNLISTED_CHILD), lookup)

    async def test_a_shipped_expansion_child_is_a_red_flag_without_a_server(self) -> None:
        assert await decide(red_flag_request(SHIPPED_CHILD), None) == ["red-flag"]

    @respx.mock
    async def test_a_shipped_child_asks_the_server_nothing(self) -> None:
        route = respx.get(VALIDATE).mock(return_value=httpx.Response(200, json=parameters(False)))
        async with httpx.AsyncClient() as http:
            lookup = HierarchyLookup(HttpxTerminologyServer(http, BASE), timeout_seconds=5)
            assert await decide(red_flag_request(SHIPPED_CHILD), lookup) == ["red-flag"]
        assert all(call.request.url.params["code"] != SHIPPED_CHILD for call in route.calls)

    @pytest.mark.parametrize("code", [SHIPPED_CHILD, UNLISTED_CHILD])
    @respx.mock
    async def test_a_hanging_server_does_not_hang_the_decision(self, code: str) -> None:
        respx.get(VALIDATE).mock(side_effect=hang)
        async with httpx.AsyncClient() as http:
            lookup = HierarchyLookup(HttpxTerminologyServer(http, BASE), timeout_seconds=0.05)
            actions = await decide(red_flag_request(code), lookup)
        # The shipped expansion still decides: its child is a red flag; an unlisted one cannot be placed.
        assert ("red-flag" in actions) == (code == SHIPPED_CHILD)


class CountingServer:
    """Answers after a yield to the loop, recording how many questions were in flight at once."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.most = 0

    async def is_a(self, _system: str, _ancestor: str, code: str) -> bool:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        await asyncio.sleep(0)
        self.in_flight -= 1
        return code.endswith("1")


async def test_requests_in_flight_are_limited() -> None:
    server = CountingServer()
    lookup = HierarchyLookup(server, timeout_seconds=5, max_concurrent=3)
    questions = [Subsumption(SNOMED, MALIGNANCY, str(n)) for n in range(20)]
    answers = await lookup.answer(questions)
    assert len(answers) == 20
    assert answers[Subsumption(SNOMED, MALIGNANCY, "11")]
    assert server.most == 3


@respx.mock
async def test_inactive_conditions_ask_the_server_nothing() -> None:
    route = respx.get(VALIDATE).mock(side_effect=only_the_unlisted_child)
    request = red_flag_request(UNLISTED_CHILD)
    condition = request["prefetch"]["conditions"]["entry"][1]["resource"]
    condition["clinicalStatus"]["coding"][0]["code"] = "resolved"
    async with httpx.AsyncClient() as http:
        lookup = HierarchyLookup(HttpxTerminologyServer(http, BASE), timeout_seconds=5)
        assert "red-flag" not in await decide(request, lookup)
    assert all(call.request.url.params["code"] != UNLISTED_CHILD for call in route.calls)


OPIOID_ANALGESIC = "360204007"  # the opioid-analgesics ValueSet's SNOMED CT is-a root
# A medicinal product code the shipped expansion does not list: only a server can place it under the root.
UNLISTED_OPIOID_PRODUCT = "1187390006"


def opioid_order_request() -> dict[str, Any]:
    """An order-sign call for an adult with low back pain on the problem list, no screen, signing a
    medication order coded only as a SNOMED CT product."""
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "1970-05-14"}
    back_pain = {
        "resourceType": "Condition",
        "id": "c1",
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
        "code": {"coding": [{"system": SNOMED, "code": "279039007"}]},
        "subject": {"reference": "Patient/p1"},
    }
    order = {
        "resourceType": "MedicationRequest",
        "id": "med-1",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": SNOMED, "code": UNLISTED_OPIOID_PRODUCT}]},
        "subject": {"reference": "Patient/p1"},
    }

    return {
        "hook": "order-sign",
        "hookInstance": str(uuid.uuid4()),
        "context": {
            "userId": "Practitioner/d1",
            "patientId": "p1",
            "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": order}]},
        },
        "prefetch": {
            "patient": patient,
            "startBackResponses": searchset(),
            "nihResponses": searchset(),
            "conditions": searchset(back_pain),
            "serviceRequests": searchset(),
        },
    }


async def decide_order_sign(lookup: HierarchyLookup) -> list[str]:
    content = ContentRepository.load()
    registry = ServiceRegistry.from_content(content)
    decider = StratifiedCareDecider.from_content(content, registry, lookup)
    service = registry.get("start-back-order-sign")
    request = opioid_order_request()
    context = parse_context(request["hook"], request["context"])
    record = build_record(request["prefetch"], context.patientId, context.encounterId)
    answers = await decider.consult_terminology(service, context, record)
    decision = decider.decide(service, context, record, NOW, uuid.uuid4, answers)
    return [issued.pathway_action for issued in decision.cards]


def only_the_unlisted_product(request: httpx.Request) -> httpx.Response:
    placed = request.url.params["code"] == UNLISTED_OPIOID_PRODUCT and request.url.params["url"].endswith(
        f"isa/{OPIOID_ANALGESIC}"
    )
    return httpx.Response(200, json=parameters(placed))


class TestDraftOrdersBySnomedHierarchy:
    @respx.mock
    async def test_a_product_the_server_places_under_opioids_is_an_opioid_order(self) -> None:
        route = respx.get(VALIDATE).mock(side_effect=only_the_unlisted_product)
        async with httpx.AsyncClient() as http:
            lookup = HierarchyLookup(HttpxTerminologyServer(http, BASE), timeout_seconds=5)
            assert await decide_order_sign(lookup) == ["opioid-without-screen"]
        asked = {(call.request.url.params["url"], call.request.url.params["code"]) for call in route.calls}
        assert (f"{SNOMED}?fhir_vs=isa/{OPIOID_ANALGESIC}", UNLISTED_OPIOID_PRODUCT) in asked

    @respx.mock
    async def test_a_product_the_server_denies_is_not(self) -> None:
        respx.get(VALIDATE).mock(return_value=httpx.Response(200, json=parameters(False)))
        async with httpx.AsyncClient() as http:
            lookup = HierarchyLookup(HttpxTerminologyServer(http, BASE), timeout_seconds=5)
            assert await decide_order_sign(lookup) == []
