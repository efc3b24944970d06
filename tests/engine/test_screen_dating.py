"""The decision on raw FHIR as servers shape it: partial authored dates, lastUpdated only, no dates at all.

Drives the real decider (Questionnaire scoring, the shipped PlanDefinition) with QuestionnaireResponses in
a PatientRecord, at a fixed ``now``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from stratcare.cdshooks.context import parse_context
from stratcare.cdshooks.services import ServiceRegistry
from stratcare.content import ContentRepository
from stratcare.engine.decision import StratifiedCareDecider
from stratcare.engine.record import PatientRecord
from stratcare.engine.runner import Decision

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
PATIENT = "p-42"
SERVICE = "start-back-encounter-start"
START_BACK = "http://stratcare.org/fhir/Questionnaire/start-back"
SB_SYSTEM = "http://stratcare.org/fhir/CodeSystem/start-back"
HIGH_RISK = ["agree"] * 8 + ["extremely"]
LOW_BACK_PAIN = {
    "resourceType": "Condition",
    "id": "lbp",
    "clinicalStatus": {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
    },
    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "279039007"}]},
    "subject": {"reference": f"Patient/{PATIENT}"},
}


@pytest.fixture(scope="module")
def decider_and_registry() -> tuple[StratifiedCareDecider, ServiceRegistry]:
    content = ContentRepository.load()
    registry = ServiceRegistry.from_content(content)
    return StratifiedCareDecider.from_content(content, registry), registry


def high_risk_response(response_id: str = "qr-1", **fields: Any) -> dict[str, Any]:
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": response_id,
        "questionnaire": f"{START_BACK}|1.0.0",
        "status": "completed",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "item": [
            {"linkId": f"sb-{n}", "answer": [{"valueCoding": {"system": SB_SYSTEM, "code": code}}]}
            for n, code in enumerate(HIGH_RISK, start=1)
        ],
    }
    response.update(fields)
    return response


def decide(
    decider_and_registry: tuple[StratifiedCareDecider, ServiceRegistry], *responses: dict[str, Any]
) -> Decision:
    decider, registry = decider_and_registry
    record = PatientRecord(
        patient_id=PATIENT,
        patient={"resourceType": "Patient", "id": PATIENT, "birthDate": "1971"},
        questionnaire_responses=list(responses),
        conditions=[LOW_BACK_PAIN],
    )
    context = parse_context(
        "encounter-start",
        {"userId": "Practitioner/gp", "patientId": PATIENT, "encounterId": "enc-1"},
    )
    counter = iter(range(1, 100))
    return decider.decide(registry.get(SERVICE), context, record, NOW, lambda: UUID(int=next(counter)))


def only_summary(decision: Decision) -> str:
    [issued] = decision.cards
    return issued.card.summary


def test_a_2021_screen_gives_no_referral(decider_and_registry: Any) -> None:
    decision = decide(decider_and_registry, high_risk_response(authored="2021-03-03T08:30:00+01:00"))
    [issued] = decision.cards
    assert issued.card.summary == "STarT Back screen out of date or undated: ask for a new screen"
    assert issued.risk_group is None  # the ledger records no risk for a card that shows none
    assert "Completed on 3 March 2021 (5 years ago)" in (issued.card.detail or "")


def test_a_partial_authored_date_is_used(decider_and_registry: Any) -> None:
    decision = decide(decider_and_registry, high_risk_response(authored="2026-11-18"))
    [issued] = decision.cards
    assert issued.risk_group == "high"
    assert "Completed on 18 November 2026 (2 days ago)" in (issued.card.detail or "")


def test_meta_last_updated_dates_a_response_without_authored(decider_and_registry: Any) -> None:
    response = high_risk_response(meta={"versionId": "2", "lastUpdated": "2026-11-19T17:02:11.482+00:00"})
    decision = decide(decider_and_registry, response)
    [issued] = decision.cards
    assert issued.risk_group == "high"
    assert "the date the record was last updated" in (issued.card.detail or "")


def test_a_response_with_neither_date_is_not_used_and_the_card_says_why(decider_and_registry: Any) -> None:
    decision = decide(decider_and_registry, high_risk_response(meta={"versionId": "1"}))
    [issued] = decision.cards
    assert issued.card.summary.startswith("STarT Back screen out of date or undated")
    assert issued.card.suggestions is not None  # a new screen is offered
    assert "The response has no date" in (issued.card.detail or "")
    assert not issued.referral_suggested  # the screening order is no referral: reports count none


def test_an_unreadable_authored_falls_back_to_last_updated(decider_and_registry: Any) -> None:
    response = high_risk_response(authored="20/11/2026", meta={"lastUpdated": "2026-11-20T09:00:00Z"})
    [issued] = decide(decider_and_registry, response).cards
    assert issued.risk_group == "high"


def test_a_new_screen_after_an_old_one_is_used(decider_and_registry: Any) -> None:
    old = high_risk_response("old", authored="2021-03-03")
    new = high_risk_response("new", authored="2026-11-20T09:00:00Z")
    [issued] = decide(decider_and_registry, old, new).cards
    assert issued.risk_group == "high"
    assert issued.referral_suggested
