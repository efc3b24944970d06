"""One deadline bounds a whole hook call: the prefetch and the terminology lookups share it."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from api.conftest import SERVICE
from stratcare.api.app import create_app
from stratcare.engine.runner import STORE_SHARE
from stratcare.settings import Settings

RequestFor = Callable[[str], dict[str, Any]]
CALL = f"/cds-services/{SERVICE}"
FHIR = "https://ehr.example.org/fhir"
TX = "https://tx.example.org/fhir"
SNOMED = "http://snomed.info/sct"
DEADLINE = 0.5
"""Short, so the tests are quick; its store share (STORE_SHARE) is still ample for a SQLite commit."""


async def hang(_request: httpx.Request) -> httpx.Response:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'stratcare.db'}",
        auth="off",
        terminology_server_url=TX,
        terminology_timeout_seconds=10,
        fhir_timeout_seconds=30,
        hook_deadline_seconds=DEADLINE,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://stratcare.test") as http:
            yield http


@respx.mock
async def test_a_hung_fhir_server_is_412_at_the_call_deadline_not_the_fhir_timeout(
    client: httpx.AsyncClient, request_for: RequestFor, caplog: pytest.LogCaptureFixture
) -> None:
    respx.get(url__startswith=FHIR).mock(side_effect=hang)
    body = request_for("high-risk")
    body["fhirServer"] = FHIR
    del body["prefetch"]["conditions"]
    caplog.set_level(logging.INFO)
    response = await client.post(CALL, json=body)
    assert response.status_code == 412
    assert response.json()["issue"][0]["code"] == "timeout"
    (refused,) = [record for record in caplog.records if record.getMessage() == "request refused"]
    # The prefetch's budget is what the call's deadline leaves it, not the 30 s FHIR timeout.
    budget = re.search(r"within ([0-9.]+) s", refused.reason)  # type: ignore[attr-defined]
    assert budget is not None
    assert 0 < float(budget.group(1)) <= DEADLINE * (1 - STORE_SHARE)


@respx.mock
async def test_a_hung_terminology_server_is_cut_off_at_the_call_deadline(
    client: httpx.AsyncClient, request_for: RequestFor, caplog: pytest.LogCaptureFixture
) -> None:
    respx.get(url__startswith=TX).mock(side_effect=hang)
    body = request_for("red-flag")
    entry = body["prefetch"]["conditions"]["entry"][1]
    entry["resource"]["code"] = {"coding": [{"system": SNOMED, "code": "128462008"}], "text": "Spinal cancer"}
    caplog.set_level(logging.WARNING)
    response = await client.post(CALL, json=body)
    assert response.status_code == 200
    assert [card["indicator"] for card in response.json()["cards"]] == ["critical"]
    assert any("cut off by the call's deadline" in record.getMessage() for record in caplog.records)
