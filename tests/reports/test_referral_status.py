"""Referrals signed from the ServiceRequest's status: a later hook that sees the draft stratcare proposed
active or completed counts the referral as signed, on both databases and over HTTP."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
from sqlalchemy import select

from stratcare.api.app import create_app
from stratcare.demo.scenarios import load_scenarios
from stratcare.engine.ports import HookCallFacts, IssuedCard
from stratcare.pathways.referral_tracking import ReferralStatus
from stratcare.reports.measures import PatientCounts
from stratcare.reports.query import ReportQuery
from stratcare.settings import Settings
from stratcare.store import SqlLedgers, schema
from stratcare.store.reports import SqlReports

from .history import SERVICE, issued, risk_screen

DAY = datetime(2025, 3, 3, 9, tzinfo=UTC)
PERIOD = ReportQuery(start=DAY.replace(hour=0), end=DAY.replace(hour=0) + timedelta(days=14))


def call(patient: str, days: int) -> HookCallFacts:
    return HookCallFacts(
        hook_instance=uuid4(),
        service_id=SERVICE,
        hook="encounter-start",
        patient_id=patient,
        encounter_id=None,
        user_id="Practitioner/doc-1",
        fhir_server="https://ehr.example.org/fhir",
        received_at=DAY + timedelta(days=days),
        outcome="cards",
        clinic="Organization/clinic-a",
    )


async def see(ledgers: SqlLedgers, patient: str, days: int, *statuses: ReferralStatus) -> None:
    async with ledgers.hook_ledger() as ledger:
        await ledger.record(call(patient, days), [], [], (), statuses)


async def overall(ledgers: SqlLedgers, from_summary: bool = True) -> PatientCounts:
    async with ledgers.engine.connect() as connection:
        report = await SqlReports(connection, from_summary=from_summary).report(PERIOD)
    assert report.overall is not None
    return report.overall


async def high_risk_referral(ledgers: SqlLedgers) -> IssuedCard:
    card = issued("high-risk")
    async with ledgers.hook_ledger() as ledger:
        await ledger.record(call("p1", 0), [risk_screen("high", DAY)], [card])
    return card


async def status_row(ledgers: SqlLedgers) -> dict[str, Any]:
    async with ledgers.engine.connect() as connection:
        return dict((await connection.execute(select(schema.referral_statuses))).mappings().one())


async def test_an_active_request_signs_the_referral_and_stays_signed(ledgers: SqlLedgers) -> None:
    card = await high_risk_referral(ledgers)
    await see(ledgers, "p1", 1, ReferralStatus(card.card.uuid, "draft"))
    counts = await overall(ledgers)
    assert (counts.referrals_pended, counts.referrals_signed, counts.high_risk_referred) == (1, 0, 0)

    await see(ledgers, "p1", 2, ReferralStatus(card.card.uuid, "active"))
    await see(ledgers, "p1", 3, ReferralStatus(card.card.uuid, "revoked"))

    for from_summary in (True, False):
        counts = await overall(ledgers, from_summary)
        assert (counts.referrals_signed, counts.high_risk_referred) == (1, 1)
    row = await status_row(ledgers)
    assert (row["status"], row["observed_at"], row["signed_at"]) == (
        "revoked",
        DAY + timedelta(days=3),
        DAY + timedelta(days=2),
    )


async def test_another_patients_hook_or_an_unknown_card_signs_nothing(ledgers: SqlLedgers) -> None:
    card = await high_risk_referral(ledgers)
    await see(ledgers, "p2", 1, ReferralStatus(card.card.uuid, "active"))
    await see(ledgers, "p1", 1, ReferralStatus(uuid4(), "completed"))
    counts = await overall(ledgers)
    assert (counts.referrals_signed, counts.high_risk_referred) == (0, 0)
    async with ledgers.engine.connect() as connection:
        assert (await connection.execute(select(schema.referral_statuses))).all() == []


def service_requests(*requests: dict[str, Any]) -> dict[str, Any]:
    entries = [{"resource": request} for request in requests]
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}


async def test_over_http_the_next_hook_reads_the_signed_draft(tmp_path: Path) -> None:
    body = copy.deepcopy(next(s for s in load_scenarios() if s.name == "high-risk").request)
    body["prefetch"]["encounter"]["serviceProvider"] = {"reference": "Organization/clinic-a"}
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'store.db'}", auth="off"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://stratcare.test") as http:
            first = await http.post("/cds-services/start-back-encounter-start", json=body)
            [card] = [c for c in first.json()["cards"] if c.get("suggestions")]
            draft = card["suggestions"][0]["actions"][0]["resource"]
            # The EHR created the draft, the clinician signed it: the EHR's own id, status active.
            signed = draft | {"id": "sr-1", "status": "active"}
            later = copy.deepcopy(body) | {"hookInstance": str(uuid4())}
            later["prefetch"]["serviceRequests"] = service_requests(signed)
            second = await http.post("/cds-services/start-back-encounter-start", json=later)
        assert second.status_code == 200
        now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        query = ReportQuery(start=now - timedelta(days=1), end=now + timedelta(days=1))
        async with app.state.runtime.database.connect() as connection:
            report = await SqlReports(connection).report(query)
    assert report.overall is not None
    assert (report.overall.referrals_pended, report.overall.referrals_signed) == (1, 1)
