"""Builders for pathway inputs: instrument results made directly from results.py, FHIR JSON by hand."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from stratcare.instruments.results import (
    Chronicity,
    NihScreenResult,
    ResponseRejected,
    ResponseSource,
    RiskGroup,
    ScreenDate,
    StartBackScore,
)
from stratcare.json_types import JsonObject
from stratcare.pathways import PathwayInputs

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
AUTHORED = datetime(2026, 11, 20, 9, 15, tzinfo=UTC)
START_BACK = "http://stratcare.org/fhir/Questionnaire/start-back"
NIH = "http://stratcare.org/fhir/Questionnaire/nih-clbp-screen"
SNOMED = "http://snomed.info/sct"
LOW_BACK_PAIN = "279039007"
CAUDA_EQUINA = "192970008"
PHYSIO_REFERRAL = "308447003"
ORDERS = "http://stratcare.org/fhir/CodeSystem/stratcare-orders"
PIPT = "psychologically-informed-physiotherapy"

SCORES = {
    RiskGroup.LOW: (2, 1),
    RiskGroup.MEDIUM: (5, 2),
    RiskGroup.HIGH: (7, 4),
}


class SequentialUuids:
    """A deterministic ``new_uuid``: UUID(int=1), UUID(int=2), ..."""

    def __init__(self) -> None:
        self._counter: Iterator[int] = itertools.count(1)
        self.issued: list[UUID] = []

    def __call__(self) -> UUID:
        issued = UUID(int=next(self._counter))
        self.issued.append(issued)
        return issued


ADULT = {"resourceType": "Patient", "id": "p1", "birthDate": "1970-05-14"}


AUTHORED_DATE = ScreenDate(AUTHORED, "time", "authored")


def source(
    response_id: str, questionnaire: str = START_BACK, dated: ScreenDate | None = AUTHORED_DATE
) -> ResponseSource:
    """A response source authored at AUTHORED unless ``dated`` says otherwise (None: undated)."""
    return ResponseSource(
        response_id=response_id,
        version_id="1",
        questionnaire=f"{questionnaire}|1.0.0",
        authored=AUTHORED if dated is AUTHORED_DATE else None,
        dated=dated,
    )


def start_back(risk: RiskGroup, dated: ScreenDate | None = AUTHORED_DATE) -> StartBackScore:
    total, psychosocial = SCORES[risk]
    return StartBackScore(
        source=source("sb-1", dated=dated),
        instrument_version="1.0.0",
        total=total,
        psychosocial=psychosocial,
        risk_group=risk,
    )


def start_back_rejected(*reasons: str, dated: ScreenDate | None = AUTHORED_DATE) -> ResponseRejected:
    return ResponseRejected(
        source=source("sb-bad", dated=dated),
        instrument=START_BACK,
        reasons=reasons or ("question 9 is not answered",),
    )


def nih(chronicity: Chronicity, dated: ScreenDate | None = AUTHORED_DATE) -> NihScreenResult:
    return NihScreenResult(
        source=source("nih-1", NIH, dated=dated),
        instrument_version="1.0.0",
        duration_code="1-5-years",
        frequency_code="every-day",
        chronicity=chronicity,
    )


def nih_rejected() -> ResponseRejected:
    return ResponseRejected(
        source=source("nih-bad", NIH), instrument=NIH, reasons=("question 2 is not answered",)
    )


def condition(
    code: str,
    system: str = SNOMED,
    clinical_status: str | None = "active",
    verification_status: str | None = "confirmed",
) -> JsonObject:
    resource: JsonObject = {
        "resourceType": "Condition",
        "id": f"cond-{code}",
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": "Patient/p1"},
    }
    if clinical_status:
        resource["clinicalStatus"] = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": clinical_status,
                }
            ]
        }
    if verification_status:
        resource["verificationStatus"] = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": verification_status,
                }
            ]
        }
    return resource


def service_request(
    status: str, *codings: tuple[str, str], authored_on: str | None = "2026-11-17T14:30:00Z"
) -> JsonObject:
    """An order for patient p1, made three days before NOW unless ``authored_on`` says otherwise."""
    request: JsonObject = {
        "resourceType": "ServiceRequest",
        "id": f"sr-{status}",
        "status": status,
        "intent": "order",
        "code": {"coding": [{"system": system, "code": code} for system, code in codings]},
        "subject": {"reference": "Patient/p1"},
    }
    if authored_on is not None:
        request["authoredOn"] = authored_on
    return request


def inputs(**overrides: Any) -> PathwayInputs:
    """Inputs for patient p1 in encounter e1, with low back pain on the problem list by default."""
    values: dict[str, Any] = {
        "patient_id": "p1",
        "encounter_id": "e1",
        "now": NOW,
        "patient": dict(ADULT),
        "conditions": [condition(LOW_BACK_PAIN)],
    }
    values.update(overrides)
    return PathwayInputs(**values)
