"""The two letter services through the app: discovered, dispatched by their descriptor's decision, and
answered with CDS Hooks cards; a bad appointment-book context is a 400 with an OperationOutcome."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from letters.conftest import POST, PRE
from stratcare.api.app import create_app
from stratcare.cdshooks.services import ServiceRegistry
from stratcare.demo.letter_files import save_letter_pdf
from stratcare.engine.decider_by_kind import DeciderByKind
from stratcare.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'store.db'}", auth="off"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://stratcare.test") as http:
            yield http


async def _post(client: httpx.AsyncClient, request: dict[str, Any]) -> httpx.Response:
    service = request.pop("service")
    return await client.post(f"/cds-services/{service}", json=request)


async def test_discovery_lists_both_letter_services(client: httpx.AsyncClient) -> None:
    services = {s["id"]: s["hook"] for s in (await client.get("/cds-services")).json()["services"]}
    assert services["spine-letters-appointment-book"] == "appointment-book"
    assert services["spine-letters-encounter-discharge"] == "encounter-discharge"


async def test_appointment_book_answers_with_the_draft_letter(client: httpx.AsyncClient, sample: Any) -> None:
    response = await _post(client, sample(PRE))
    assert response.status_code == 200
    cards = response.json()["cards"]
    action = cards[0]["suggestions"][0]["actions"][0]
    assert action["resource"]["resourceType"] == "Communication"
    assert cards[1]["links"]


async def test_encounter_discharge_answers_with_the_drafts(client: httpx.AsyncClient, sample: Any) -> None:
    response = await _post(client, sample(POST))
    assert response.status_code == 200
    actions = response.json()["cards"][0]["suggestions"][0]["actions"]
    assert [a["resource"]["resourceType"] for a in actions] == [
        "Composition",
        "DocumentReference",
        "Communication",
    ]


async def test_appointment_book_without_appointments_is_a_bad_request(
    client: httpx.AsyncClient, sample: Any
) -> None:
    request = sample(PRE)
    del request["context"]["appointments"]
    response = await _post(client, request)
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"
    assert "appointments" in response.text


def test_a_descriptor_naming_an_unknown_decision_is_refused() -> None:
    registry = ServiceRegistry.from_descriptors(
        [
            {
                "id": "x",
                "hook": "patient-view",
                "title": "x",
                "description": "x",
                "planDefinition": "p",
                "decision": "nope",
            }
        ]
    )
    with pytest.raises(ValueError, match="unknown decisions: nope"):
        DeciderByKind({}, registry)


def test_the_wheel_ships_the_letter_templates() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    included = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert included["letters"] == "stratcare/_content/letters"


async def test_the_demo_writes_the_drafted_letter_pdf(
    client: httpx.AsyncClient, sample: Any, tmp_path: Path
) -> None:
    body = (await _post(client, sample(POST))).json()
    written = save_letter_pdf(body, tmp_path / "letter.pdf")
    assert written is not None
    assert written.read_bytes().startswith(b"%PDF-")
    assert save_letter_pdf((await _post(client, sample(PRE))).json(), tmp_path / "none.pdf") is None
