"""The httpx FHIR adapter: what it sends, and how it classifies failures (technical = retry may help)."""

from __future__ import annotations

import httpx
import pytest
import respx
from pydantic import SecretStr

from stratcare.errors import EhrError, EhrRejectedError, EhrTechnicalError
from stratcare.fhir.client import HttpxFhirClient

BASE = "https://ehr.example.org/fhir"
BUNDLE = {"resourceType": "Bundle", "type": "transaction", "entry": []}


@respx.mock
async def test_read_sends_fhir_json_accept_and_bearer() -> None:
    route = respx.get(f"{BASE}/Patient/p1").mock(
        return_value=httpx.Response(200, json={"resourceType": "Patient", "id": "p1"})
    )
    async with httpx.AsyncClient() as http:
        await HttpxFhirClient(http).read(BASE, "Patient/p1", SecretStr("tok"))
    sent = route.calls.last.request
    assert sent.headers["Accept"] == "application/fhir+json"
    assert sent.headers["Authorization"] == "Bearer tok"


@respx.mock
async def test_read_without_token_sends_no_authorization() -> None:
    route = respx.get(f"{BASE}/Patient/p1").mock(
        return_value=httpx.Response(200, json={"resourceType": "Patient"})
    )
    async with httpx.AsyncClient() as http:
        await HttpxFhirClient(http).read(BASE, "Patient/p1", None)
    assert "Authorization" not in route.calls.last.request.headers


@respx.mock
@pytest.mark.parametrize(
    ("status", "technical"), [(500, True), (503, True), (429, True), (400, False), (403, False)]
)
async def test_error_statuses_are_classified(status: int, technical: bool) -> None:
    respx.post(BASE).mock(return_value=httpx.Response(status))
    async with httpx.AsyncClient() as http:
        with pytest.raises(EhrError) as caught:
            await HttpxFhirClient(http).transaction(BASE, BUNDLE, None)
    assert isinstance(caught.value, EhrTechnicalError) is technical
    assert caught.value.status == status


@respx.mock
async def test_transport_errors_are_technical() -> None:
    respx.post(BASE).mock(side_effect=httpx.ConnectError("refused"))
    async with httpx.AsyncClient() as http:
        with pytest.raises(EhrError) as caught:
            await HttpxFhirClient(http).transaction(BASE, BUNDLE, None)
    assert isinstance(caught.value, EhrTechnicalError)


@respx.mock
async def test_a_transaction_with_a_failed_entry_is_an_error() -> None:
    response = {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "entry": [{"response": {"status": "400"}}],
    }
    respx.post(BASE).mock(return_value=httpx.Response(200, json=response))
    async with httpx.AsyncClient() as http:
        with pytest.raises(EhrError, match="not applied"):
            await HttpxFhirClient(http).transaction(BASE, BUNDLE, None)


@respx.mock
async def test_a_transaction_posts_the_bundle_to_the_base() -> None:
    response = {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "entry": [{"response": {"status": "201 Created"}}],
    }
    route = respx.post(BASE).mock(return_value=httpx.Response(200, json=response))
    async with httpx.AsyncClient() as http:
        assert await HttpxFhirClient(http).transaction(BASE + "/", BUNDLE, None) == response
    assert route.calls.last.request.headers["Content-Type"] == "application/fhir+json"


@respx.mock
async def test_a_body_that_is_not_json_is_a_logical_error() -> None:
    respx.get(f"{BASE}/Patient/p1").mock(return_value=httpx.Response(200, text="<html>"))
    async with httpx.AsyncClient() as http:
        with pytest.raises(EhrError) as caught:
            await HttpxFhirClient(http).read(BASE, "Patient/p1", None)
    assert isinstance(caught.value, EhrRejectedError)


@respx.mock
async def test_the_token_is_cut_from_the_error_text() -> None:
    echo = {"resourceType": "OperationOutcome", "issue": [{"code": "security", "diagnostics": "bad s3cr3t"}]}
    respx.post(BASE).mock(return_value=httpx.Response(400, json=echo))
    async with httpx.AsyncClient() as http:
        with pytest.raises(EhrError) as caught:
            await HttpxFhirClient(http).transaction(BASE, BUNDLE, SecretStr("s3cr3t"))
    assert caught.value.message == f"POST {BASE} answered 400: bad [redacted]"


@respx.mock
async def test_a_read_told_to_wait_says_how_long() -> None:
    respx.get(f"{BASE}/Patient/p1").mock(return_value=httpx.Response(429, headers={"Retry-After": "7"}))
    async with httpx.AsyncClient() as http:
        with pytest.raises(EhrError) as caught:
            await HttpxFhirClient(http).read(BASE, "Patient/p1?name=x", None)
    assert isinstance(caught.value, EhrTechnicalError)
    assert caught.value.retry_after_seconds == 7.0
    assert caught.value.message == f"GET {BASE}/Patient/p1 answered 429"
