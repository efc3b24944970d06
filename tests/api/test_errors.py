"""Bad input gets a specific OperationOutcome and the right status, never a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from api.conftest import SERVICE
from support.cds_requests import lent_token

RequestFor = Callable[[str], dict[str, Any]]


def assert_outcome(response: httpx.Response, status: int) -> list[dict[str, Any]]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"]
    return list(body["issue"])


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"/cds-services/{SERVICE}", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    (issue,) = assert_outcome(response, 400)
    assert "JSON" in issue["diagnostics"]


async def test_missing_hook_instance_is_400(client: httpx.AsyncClient, request_for: RequestFor) -> None:
    body = request_for("low-risk")
    del body["hookInstance"]
    issues = assert_outcome(await client.post(f"/cds-services/{SERVICE}", json=body), 400)
    assert issues[0]["expression"] == ["hookInstance"]


async def test_hook_instance_must_be_a_uuid(client: httpx.AsyncClient, request_for: RequestFor) -> None:
    body = request_for("low-risk")
    body["hookInstance"] = "not-a-uuid"
    assert_outcome(await client.post(f"/cds-services/{SERVICE}", json=body), 400)


async def test_a_hook_that_does_not_match_the_service_is_400(
    client: httpx.AsyncClient, request_for: RequestFor
) -> None:
    body = request_for("low-risk")
    body["hook"] = "order-sign"
    (issue,) = assert_outcome(await client.post(f"/cds-services/{SERVICE}", json=body), 400)
    assert "encounter-start" in issue["diagnostics"]


async def test_unknown_service_is_404(client: httpx.AsyncClient, request_for: RequestFor) -> None:
    assert_outcome(await client.post("/cds-services/no-such-service", json=request_for("low-risk")), 404)


async def test_missing_context_field_is_400(client: httpx.AsyncClient, request_for: RequestFor) -> None:
    body = request_for("low-risk")
    del body["context"]["encounterId"]
    (issue,) = assert_outcome(await client.post(f"/cds-services/{SERVICE}", json=body), 400)
    assert issue["expression"] == ["context.encounterId"]


async def test_no_prefetch_and_no_fhir_server_is_412(
    client: httpx.AsyncClient, request_for: RequestFor
) -> None:
    issues = assert_outcome(
        await client.post(f"/cds-services/{SERVICE}", json=request_for("missing-data")), 412
    )
    assert {issue["expression"][0] for issue in issues} >= {
        "prefetch.startBackResponses",
        "prefetch.conditions",
    }


async def test_fhir_authorization_without_fhir_server_is_400(
    client: httpx.AsyncClient, request_for: RequestFor
) -> None:
    body = request_for("low-risk")
    body["fhirAuthorization"] = lent_token("t")
    assert_outcome(await client.post(f"/cds-services/{SERVICE}", json=body), 400)


@pytest.mark.parametrize("body", [[], "text", 42, None, {"hook": "encounter-start"}])
async def test_wrong_shapes_are_400(client: httpx.AsyncClient, body: Any) -> None:
    assert_outcome(await client.post(f"/cds-services/{SERVICE}", json=body), 400)


async def test_prefetch_garbage_is_ignored_not_a_500(
    client: httpx.AsyncClient, request_for: RequestFor
) -> None:
    body = request_for("low-risk")
    body["prefetch"]["conditions"] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [1, "x", {"resource": {"id": 3}}],
    }
    body["prefetch"]["startBackResponses"]["entry"][0]["resource"]["item"] = "garbage"
    response = await client.post(f"/cds-services/{SERVICE}", json=body)
    assert response.status_code == 200
    for card in response.json()["cards"]:
        assert "low risk" not in card["summary"]


async def test_unknown_route_is_an_operation_outcome(client: httpx.AsyncClient) -> None:
    assert_outcome(await client.get("/nowhere"), 404)


async def test_wrong_method_is_405(client: httpx.AsyncClient) -> None:
    assert_outcome(await client.get(f"/cds-services/{SERVICE}"), 405)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/cds-services", "GET"),
        ("TRACE", f"/cds-services/{SERVICE}", "POST"),
        ("QUERY", "/cds-services", "GET"),
    ],
)
async def test_other_methods_under_cds_services_are_405_naming_the_allowed(
    client: httpx.AsyncClient, method: str, path: str, allowed: str
) -> None:
    response = await client.request(method, path)
    assert_outcome(response, 405)
    assert response.headers["allow"] == allowed


async def test_unknown_paths_under_cds_services_are_404(client: httpx.AsyncClient) -> None:
    assert_outcome(await client.get(f"/cds-services/{SERVICE}/feedback/more"), 404)


async def test_a_trailing_slash_under_cds_services_is_redirected(client: httpx.AsyncClient) -> None:
    response = await client.get("/cds-services/?x=1")
    assert (response.status_code, response.headers["location"]) == (
        307,
        "http://stratcare.test/cds-services?x=1",
    )
