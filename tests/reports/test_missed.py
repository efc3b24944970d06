"""Missed-patient lists: who they hold (SQL on both databases), pseudonyms, next appointments (respx)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import respx

from stratcare.fhir.appointments import NextAppointments
from stratcare.fhir.client import HttpxFhirClient
from stratcare.reports.measures import HIGH_RISK_NOT_REFERRED, NOT_STRATIFIED, MissedPatient
from stratcare.reports.missed import missed_entries
from stratcare.reports.pseudonym import pseudonym
from stratcare.reports.query import ReportQuery
from stratcare.store import SqlLedgers
from stratcare.store.reports import SqlReports

from .seed import CLINIC_A, CLINIC_B, END, START, at, seed_clinics

EHR = "https://ehr.example.org/fhir"
NOW = datetime(2025, 3, 17, 8, tzinfo=UTC)
KEY = b"k" * 32


async def test_lists_the_not_stratified_and_the_unreferred_high_risk(ledgers: SqlLedgers) -> None:
    await seed_clinics(ledgers.engine)
    async with ledgers.engine.connect() as connection:
        missed = await SqlReports(connection).missed_patients(ReportQuery(start=START, end=END))
    assert [(m.clinic, m.patient_id, m.reason, m.risk_group, m.clinician) for m in missed] == [
        (CLINIC_A, "p2", NOT_STRATIFIED, None, "Practitioner/doc-2"),
        (CLINIC_A, "p4", NOT_STRATIFIED, None, "Practitioner/doc-2"),
        (CLINIC_B, "p8", HIGH_RISK_NOT_REFERRED, "high", "Practitioner/doc-3"),
    ]
    assert missed[0].identified_at == at(4)
    assert missed[0].fhir_server == EHR


class TestPseudonyms:
    def test_keyed_stable_and_not_the_id(self) -> None:
        assert pseudonym(KEY, "p2") == pseudonym(KEY, "p2")
        assert pseudonym(KEY, "p2") != pseudonym(b"other key", "p2")
        assert pseudonym(KEY, "p2") != pseudonym(KEY, "p3")
        assert "p2" not in pseudonym(KEY, "p2")[2:]

    async def test_entries_identifiable_only_when_allowed(self, ledgers: SqlLedgers) -> None:
        await seed_clinics(ledgers.engine)
        async with ledgers.engine.connect() as connection:
            missed = await SqlReports(connection).missed_patients(ReportQuery(start=START, end=END))
        hidden = missed_entries(missed, identifiable=False, key=KEY)
        shown = missed_entries(missed, identifiable=True, key=KEY)
        assert [entry.patient for entry in shown] == ["p2", "p4", "p8"]
        assert [entry.patient for entry in hidden] == [pseudonym(KEY, p) for p in ("p2", "p4", "p8")]


def appointment_bundle(*starts: str) -> dict[str, object]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"resource": {"resourceType": "Appointment", "status": "booked", "start": s}} for s in starts
        ],
    }


class TestNextAppointments:
    @respx.mock
    async def test_asks_for_the_next_upcoming_appointment(self) -> None:
        route = respx.get(f"{EHR}/Appointment").mock(
            return_value=httpx.Response(200, json=appointment_bundle("2025-03-20T09:00:00+01:00"))
        )
        async with httpx.AsyncClient() as http:
            found = await NextAppointments(HttpxFhirClient(http)).find([(EHR, "p2"), (None, "p4")], NOW)
        assert found == {(EHR, "p2"): datetime(2025, 3, 20, 8, tzinfo=UTC), (None, "p4"): None}
        params = route.calls.last.request.url.params
        assert params["patient"] == "Patient/p2"
        assert params["date"] == "ge2025-03-17T08:00:00+00:00"
        assert params["status"] == "proposed,pending,booked"
        assert (params["_sort"], params["_count"]) == ("date", "1")

    @pytest.mark.parametrize(
        "response",
        [
            httpx.Response(500),
            httpx.Response(403),
            httpx.Response(200, json={"resourceType": "OperationOutcome"}),
            httpx.Response(200, json=appointment_bundle("2025-03-01T09:00:00Z")),  # past: ignored
            httpx.Response(200, json=appointment_bundle()),
        ],
    )
    @respx.mock
    async def test_no_appointment_when_the_server_does_not_say(self, response: httpx.Response) -> None:
        respx.get(f"{EHR}/Appointment").mock(return_value=response)
        async with httpx.AsyncClient() as http:
            found = await NextAppointments(HttpxFhirClient(http)).find([(EHR, "p2")], NOW)
        assert found == {(EHR, "p2"): None}

    def test_entries_carry_the_appointment(self) -> None:
        patient = MissedPatient(CLINIC_A, "p2", None, "clinician", at(4), EHR, None, NOT_STRATIFIED)
        (entry,) = missed_entries([patient], identifiable=False, key=KEY, appointments={(EHR, "p2"): at(20)})
        assert entry.next_appointment == at(20)
