"""Builders for pathway inputs: instrument results made directly from the shipped instrument content
(scores and band set by hand, not scored), FHIR JSON by hand."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from typing import Any
from uuid import UUID

from stratcare.content import ContentRepository
from stratcare.instruments.definition import InstrumentDefinition
from stratcare.instruments.instrument_result import InstrumentResult
from stratcare.instruments.registry import InstrumentRegistry
from stratcare.instruments.results import Chronicity, ResponseRejected, ResponseSource, ScreenDate
from stratcare.json_types import JsonObject
from stratcare.pathways import PathwayInputs
from support.instrument_results import RiskGroup

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


@cache
def definition(key: str) -> InstrumentDefinition:
    instrument = InstrumentRegistry.from_content(ContentRepository.load()).by_key(key)
    assert instrument is not None
    return instrument.definition


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


def start_back(risk: RiskGroup, dated: ScreenDate | None = AUTHORED_DATE) -> InstrumentResult:
    total, psychosocial = SCORES[risk]
    content = definition("startBack")
    return InstrumentResult(
        definition=content,
        source=source("sb-1", dated=dated),
        answers={},
        scores={"total": total, "psychosocial": psychosocial},
        band=content.band(f"{risk.value}-risk"),
        flags=(),
    )


def start_back_rejected(*reasons: str, dated: ScreenDate | None = AUTHORED_DATE) -> ResponseRejected:
    return ResponseRejected(
        source=source("sb-bad", dated=dated),
        instrument=START_BACK,
        reasons=reasons or ("question 9 is not answered",),
    )


def nih(chronicity: Chronicity, dated: ScreenDate | None = AUTHORED_DATE) -> InstrumentResult:
    content = definition("nih")
    return InstrumentResult(
        definition=content,
        source=source("nih-1", NIH, dated=dated),
        answers={"nih-duration": "1-5-years", "nih-frequency": "every-day"},
        scores={},
        band=content.band(chronicity.value),
        flags=(),
    )


def nih_rejected() -> ResponseRejected:
    return ResponseRejected(
        source=source("nih-bad", NIH), instrument=NIH, reasons=("question 2 is not answered",)
    )


def risk_group(given: PathwayInputs) -> str | None:
    """The STarT Back risk group of the inputs' scored screen (current or not), else None."""
    result = given.scored("startBack")
    return result.band.alias if result is not None and result.band is not None else None


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
    results = dict(overrides.pop("results", {}))
    for key, name in (("startBack", "start_back"), ("nih", "nih")):
        if overrides.get(name) is not None:
            results[key] = overrides[name]
        overrides.pop(name, None)
    values["instruments"] = {key: definition(key) for key in SERVICE_INSTRUMENTS}
    values.update(overrides)
    return PathwayInputs(results=results, **values)


SERVICE_INSTRUMENTS = ("startBack", "nih")
