"""A hook call's clinic: read from the Encounter as configured, and recorded with the call."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import select

from stratcare.api.app import create_app
from stratcare.demo.scenarios import load_scenarios
from stratcare.reports.clinic import ClinicSource, clinic_of
from stratcare.reports.settings import ReportSettings
from stratcare.settings import Settings
from stratcare.store import schema

ENCOUNTER: dict[str, Any] = {
    "resourceType": "Encounter",
    "serviceProvider": {"reference": "Organization/clinic-a", "display": "Clinic A"},
    "location": [{"location": {"display": "Room 3"}}, {"location": {"reference": "Location/l2"}}],
}


class TestClinicOf:
    @pytest.mark.parametrize(
        ("source", "expected"),
        [(ClinicSource.SERVICE_PROVIDER, "Organization/clinic-a"), (ClinicSource.LOCATION, "Room 3")],
    )
    def test_configured_element(self, source: ClinicSource, expected: str) -> None:
        assert clinic_of(ENCOUNTER, source) == expected

    @pytest.mark.parametrize(
        "encounter",
        [None, {"resourceType": "Encounter"}, {"serviceProvider": {"reference": " "}, "location": "x"}],
    )
    def test_nothing_said_is_none(self, encounter: dict[str, Any] | None) -> None:
        assert clinic_of(encounter, ClinicSource.SERVICE_PROVIDER) is None
        assert clinic_of(encounter, ClinicSource.LOCATION) is None


async def test_the_hook_call_records_its_clinic(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'store.db'}",
        auth="off",
        reports=ReportSettings(clinic_source=ClinicSource.LOCATION),
    )
    body = copy.deepcopy(next(s for s in load_scenarios() if s.name == "high-risk").request)
    body["prefetch"]["encounter"]["location"] = [{"location": {"reference": "Location/physio-east"}}]
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://stratcare.test") as http:
            response = await http.post("/cds-services/start-back-encounter-start", json=body)
        assert response.status_code == 200
        async with app.state.runtime.database.connect() as connection:
            rows = (await connection.execute(select(schema.hook_calls.c.clinic))).all()
    assert rows == [("Location/physio-east",)]


async def test_the_hook_call_records_where_in_the_workflow_it_ran(tmp_path: Path) -> None:
    """The call is recorded at its workflow point: rooming, for a user whose PractitionerRole is a nurse
    (who is shown no risk card), and the clinician's by default, as its cards say."""
    body = copy.deepcopy(next(s for s in load_scenarios() if s.name == "high-risk").request)
    role = {
        "resourceType": "PractitionerRole",
        "id": "role-1",
        "active": True,
        "practitioner": {"reference": body["context"]["userId"]},
        "code": [
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/practitioner-role", "code": "nurse"}
                ]
            }
        ],
    }
    body["prefetch"]["userRoles"] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": 1,
        "entry": [{"resource": role}],
    }
    by_doctor = copy.deepcopy(body)
    by_doctor["prefetch"]["userRoles"] = {"resourceType": "Bundle", "type": "searchset", "total": 0}
    by_doctor["hookInstance"] = str(uuid4())
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'store.db'}", auth="off"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://stratcare.test") as http:
            for request in (body, by_doctor):
                response = await http.post("/cds-services/start-back-encounter-start", json=request)
                assert response.status_code == 200
        async with app.state.runtime.database.connect() as connection:
            calls = (await connection.execute(select(schema.hook_calls.c.workflow_point))).all()
            cards = (await connection.execute(select(schema.cards.c.workflow_point))).all()
    assert calls == [("rooming",), ("clinician",)]
    assert cards
    assert set(cards) == {("clinician",)}
