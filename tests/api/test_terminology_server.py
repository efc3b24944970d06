"""A configured terminology server through the running app: used for SNOMED CT, bounded in time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from stratcare.api.app import create_app
from stratcare.settings import Settings

from .conftest import SERVICE

TX = "https://tx.example.org/fhir"
VALIDATE = f"{TX}/ValueSet/$validate-code"
SNOMED = "http://snomed.info/sct"


async def hang(_request: httpx.Request) -> httpx.Response:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'stratcare.db'}",
        auth="off",
        terminology_server_url=TX,
        terminology_timeout_seconds=0.05,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://stratcare.test") as http:
            yield http


def coded_red_flag(request: dict[str, Any], code: str) -> dict[str, Any]:
    entry = request["prefetch"]["conditions"]["entry"][1]
    entry["resource"]["code"] = {"coding": [{"system": SNOMED, "code": code}], "text": "Spinal cancer"}
    return request


async def indicators(client: httpx.AsyncClient, body: dict[str, Any]) -> list[str]:
    response = await client.post(f"/cds-services/{SERVICE}", json=body)
    assert response.status_code == 200
    return [card["indicator"] for card in response.json()["cards"]]


@respx.mock
async def test_server_answer_makes_a_snomed_child_a_red_flag(
    client: httpx.AsyncClient, request_for: Any
) -> None:
    def only_that_child(request: httpx.Request) -> httpx.Response:
        result = request.url.params["code"] == "94503003"
        return httpx.Response(
            200,
            json={"resourceType": "Parameters", "parameter": [{"name": "result", "valueBoolean": result}]},
        )

    respx.get(VALIDATE).mock(side_effect=only_that_child)
    assert await indicators(client, coded_red_flag(request_for("red-flag"), "94503003")) == ["critical"]


@respx.mock
async def test_a_hanging_server_does_not_hang_the_hook(client: httpx.AsyncClient, request_for: Any) -> None:
    respx.get(VALIDATE).mock(side_effect=hang)
    shipped = await indicators(client, coded_red_flag(request_for("red-flag"), "128462008"))
    unplaced = await indicators(client, coded_red_flag(request_for("red-flag"), "94503003"))
    assert shipped == ["critical"]
    assert unplaced != ["critical"]
