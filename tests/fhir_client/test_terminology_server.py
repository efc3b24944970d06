"""The terminology server adapter: $validate-code on SNOMED CT's implicit is-a ValueSet, errors mapped."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from stratcare.fhir.terminology_server import HttpxTerminologyServer, TerminologyUnavailable

BASE = "https://tx.example.org/fhir"
VALIDATE = f"{BASE}/ValueSet/$validate-code"
SNOMED = "http://snomed.info/sct"


def parameters(result: object) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": [{"name": "result", "valueBoolean": result}]}


@respx.mock
async def test_asks_the_implicit_is_a_value_set_and_reads_the_result() -> None:
    route = respx.get(VALIDATE).mock(return_value=httpx.Response(200, json=parameters(True)))
    async with httpx.AsyncClient() as http:
        assert await HttpxTerminologyServer(http, BASE + "/").is_a(SNOMED, "363346000", "94503003")
    params = route.calls.last.request.url.params
    assert params["url"] == "http://snomed.info/sct?fhir_vs=isa/363346000"
    assert params["system"] == SNOMED
    assert params["code"] == "94503003"


@respx.mock
async def test_a_false_result_is_not_a_member() -> None:
    respx.get(VALIDATE).mock(return_value=httpx.Response(200, json=parameters(False)))
    async with httpx.AsyncClient() as http:
        assert not await HttpxTerminologyServer(http, BASE).is_a(SNOMED, "363346000", "279039007")


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(404, json={"resourceType": "OperationOutcome", "issue": []}),
        httpx.Response(200, json={"resourceType": "OperationOutcome", "issue": []}),
        httpx.Response(200, json=parameters("true")),
        httpx.Response(200, text="not json"),
    ],
)
@respx.mock
async def test_unusable_answers_raise(response: httpx.Response) -> None:
    respx.get(VALIDATE).mock(return_value=response)
    async with httpx.AsyncClient() as http:
        with pytest.raises(TerminologyUnavailable):
            await HttpxTerminologyServer(http, BASE).is_a(SNOMED, "363346000", "94503003")


@respx.mock
async def test_a_timeout_raises() -> None:
    respx.get(VALIDATE).mock(side_effect=httpx.ReadTimeout("slow"))
    async with httpx.AsyncClient() as http:
        with pytest.raises(TerminologyUnavailable, match="ReadTimeout"):
            await HttpxTerminologyServer(http, BASE).is_a(SNOMED, "363346000", "94503003")


async def test_other_code_systems_are_not_asked() -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(TerminologyUnavailable):
            await HttpxTerminologyServer(http, BASE).is_a("http://loinc.org", "1234-5", "1234-5")
