"""A small clinic history with known counts, written straight into the store's tables.

Clinic A (``Organization/clinic-a``), weeks of 2025-03-03 and 2025-03-10:
- p1 pre-visit 03-03 doc-1 screening due; 03-05 scored high (acute), high-risk referral card, accepted.
- p2 03-04 doc-2 (no workflow point), screening due; a rejected screen.
- p3 rooming 03-10 doc-1 scored medium, medium-risk referral card, overridden (patient declined).
- p4 03-11 doc-2, a stale high screen (authored 2025-01-01), screening due.
- p5 03-06 doc-2 red flag only (not identified).
- p6 03-12 doc-1 scored low, low-risk card (no referral), accepted.
- p7 2025-03-01, before the period.
Clinic B (``Organization/clinic-b``): p8 03-05 doc-3 scored high (chronic), high-risk referral, no feedback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from stratcare.store import schema

START = datetime(2025, 3, 3, tzinfo=UTC)
END = datetime(2025, 3, 17, tzinfo=UTC)
CLINIC_A = "Organization/clinic-a"
CLINIC_B = "Organization/clinic-b"
REASON_SYSTEM = "http://stratcare.org/fhir/CodeSystem/override-reasons"
START_BACK = "http://stratcare.org/fhir/Questionnaire/start-back"
NIH = "http://stratcare.org/fhir/Questionnaire/nih-screen"


def at(day: int, hour: int = 10, month: int = 3) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=UTC)


@dataclass
class Seeder:
    engine: AsyncEngine
    calls: list[dict[str, Any]] = field(default_factory=list)
    assessments: list[dict[str, Any]] = field(default_factory=list)
    cards: list[dict[str, Any]] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)

    def call(
        self,
        patient: str,
        when: datetime,
        clinician: str,
        clinic: str | None = CLINIC_A,
        workflow_point: str | None = None,
    ) -> int:
        call_id = len(self.calls) + 1
        self.calls.append(
            {
                "id": call_id,
                "hook_instance": uuid4(),
                "service_id": "start-back-encounter-start",
                "hook": "encounter-start",
                "patient_id": patient,
                "encounter_id": f"enc-{call_id}",
                "user_id": clinician,
                "fhir_server": "https://ehr.example.org/fhir",
                "received_at": when,
                "outcome": "cards",
                "clinic": clinic,
                "workflow_point": workflow_point,
            }
        )
        return call_id

    def screen(
        self,
        call_id: int,
        *,
        risk_group: str | None = None,
        chronicity: str | None = None,
        authored: datetime | None = None,
        kind: str = "scored",
    ) -> None:
        self.assessments.append(
            {
                "hook_call_id": call_id,
                "kind": kind,
                "instrument": NIH if chronicity else START_BACK,
                "questionnaire": NIH if chronicity else START_BACK,
                "response_id": f"qr-{len(self.assessments)}",
                "authored": authored or self.calls[call_id - 1]["received_at"],
                "risk_group": risk_group,
                "band": chronicity or (f"{risk_group}-risk" if risk_group else None),
            }
        )

    def card(
        self, call_id: int, action: str, *, risk_group: str | None = None, referral: bool = False
    ) -> UUID:
        card_uuid = uuid4()
        self.cards.append(
            {
                "uuid": card_uuid,
                "hook_call_id": call_id,
                "service_id": "start-back-encounter-start",
                "pathway_action": action,
                "indicator": "info",
                "summary": action,
                "risk_group": risk_group,
                "referral_suggested": referral,
            }
        )
        return card_uuid

    def answer(self, card_uuid: UUID, outcome: str, when: datetime, reason: str | None = None) -> None:
        self.feedback.append(
            {
                "dedupe_key": uuid4().hex,
                "service_id": "start-back-encounter-start",
                "card_uuid": card_uuid,
                "outcome": outcome,
                "outcome_timestamp": when,
                "accepted_suggestions": [] if outcome == "overridden" else [str(uuid4())],
                "override_reason_system": REASON_SYSTEM if reason else None,
                "override_reason_code": reason,
                "received_at": when,
            }
        )

    async def write(self) -> None:
        async with self.engine.begin() as connection:
            for table, rows in (
                (schema.hook_calls, self.calls),
                (schema.assessments, self.assessments),
                (schema.cards, self.cards),
                (schema.feedback, self.feedback),
            ):
                if rows:
                    await connection.execute(insert(table), rows)


async def seed_clinics(engine: AsyncEngine) -> Seeder:
    seeder = Seeder(engine)
    c = seeder.call("p1", at(3), "Practitioner/doc-1", workflow_point="pre-visit")
    seeder.card(c, "screening-due")
    c = seeder.call("p1", at(5), "Practitioner/doc-1")
    seeder.screen(c, risk_group="high")
    seeder.screen(c, chronicity="acute")
    seeder.answer(seeder.card(c, "high-risk", risk_group="high", referral=True), "accepted", at(5, 11))

    c = seeder.call("p2", at(4), "Practitioner/doc-2")
    seeder.screen(c, kind="rejected")
    seeder.card(c, "screening-due")

    c = seeder.call("p3", at(10), "Practitioner/doc-1", workflow_point="rooming")
    seeder.screen(c, risk_group="medium")
    card = seeder.card(c, "medium-risk", risk_group="medium", referral=True)
    seeder.answer(card, "overridden", at(10, 11), reason="patient-declined")

    c = seeder.call("p4", at(11), "Practitioner/doc-2")
    seeder.screen(c, risk_group="high", authored=at(1, month=1))
    seeder.card(c, "screening-due")

    c = seeder.call("p5", at(6), "Practitioner/doc-2")
    seeder.card(c, "red-flag")

    c = seeder.call("p6", at(12), "Practitioner/doc-1")
    seeder.screen(c, risk_group="low")
    seeder.answer(seeder.card(c, "low-risk", risk_group="low"), "accepted", at(12, 11))

    c = seeder.call("p7", at(1), "Practitioner/doc-1")
    seeder.screen(c, risk_group="high")
    seeder.card(c, "high-risk", risk_group="high", referral=True)

    c = seeder.call("p8", at(5), "Practitioner/doc-3", clinic=CLINIC_B)
    seeder.screen(c, risk_group="high")
    seeder.screen(c, chronicity="chronic")
    seeder.card(c, "high-risk", risk_group="high", referral=True)
    await seeder.write()
    return seeder
