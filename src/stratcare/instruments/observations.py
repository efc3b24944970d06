"""The FHIR resources a result is written back as, from the instrument's ``instrument-observation`` and
``instrument-risk-assessment`` content. Pure: identifiers, fullUrls and the transaction are the write-back's.

Score Observations follow US Core's screening-assessment pattern: category ``survey``, ``derivedFrom`` the
QuestionnaireResponse, ``valueInteger`` (or ``valueQuantity`` when the content gives a UCUM unit). An
observation without a score writes the band as ``valueCodeableConcept``. The RiskAssessment's
``prediction.qualitativeRisk`` is the band's ``qualitativeRisk`` coding (HL7 risk-probability).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stratcare.instruments.definition import Coding, ObservationSpec
from stratcare.instruments.instrument_result import InstrumentResult
from stratcare.json_types import JsonObject

OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"


@dataclass(frozen=True)
class ResultResource:
    part: str
    """Stable name of the resource within the result, for the write-back's idempotency identifier."""
    resource: JsonObject


def _concept(codings: tuple[Coding, ...]) -> JsonObject:
    return {"coding": [coding.as_json() for coding in codings], "text": codings[0].display}


def _subject(resource: JsonObject, patient_id: str, encounter_id: str | None) -> None:
    resource["subject"] = {"reference": f"Patient/{patient_id}"}
    if encounter_id:
        resource["encounter"] = {"reference": f"Encounter/{encounter_id}"}


def _value(spec: ObservationSpec, result: InstrumentResult) -> JsonObject | None:
    if spec.score is None:
        return {"valueCodeableConcept": _concept((result.band.band,))} if result.band is not None else None
    value = result.scores[spec.score]
    if spec.unit is None:
        return {"valueInteger": value}
    unit = spec.unit
    return {"valueQuantity": {"value": value, "unit": unit.display, "system": unit.system, "code": unit.code}}


def _observation(
    spec: ObservationSpec, result: InstrumentResult, patient_id: str, encounter_id: str | None
) -> JsonObject | None:
    value = _value(spec, result)
    if value is None:
        return None
    observation: JsonObject = {
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}],
        "code": _concept(spec.codes),
    }
    _subject(observation, patient_id, encounter_id)
    if result.source.authored is not None:
        observation["effectiveDateTime"] = result.source.authored.isoformat()
    observation |= value
    observation["derivedFrom"] = [{"reference": result.source.reference}]
    return observation


def result_resources(
    result: InstrumentResult,
    patient_id: str,
    encounter_id: str | None,
    reference_of: Callable[[str], str] | None = None,
) -> list[ResultResource]:
    """Observations in content order, then the RiskAssessment; ``reference_of(part)`` names an emitted
    Observation in the RiskAssessment's ``basis`` (e.g. its transaction fullUrl)."""
    emitted = [
        ResultResource(spec.part, observation)
        for spec in result.definition.observations
        if (observation := _observation(spec, result, patient_id, encounter_id)) is not None
    ]
    assessment = _risk_assessment(result, patient_id, encounter_id, emitted, reference_of)
    return emitted + ([assessment] if assessment is not None else [])


def _risk_assessment(
    result: InstrumentResult,
    patient_id: str,
    encounter_id: str | None,
    observations: list[ResultResource],
    reference_of: Callable[[str], str] | None,
) -> ResultResource | None:
    spec = result.definition.risk_assessment
    if spec is None or result.band is None or result.band.qualitative_risk is None:
        return None
    method = spec.method.as_json() | {"version": result.version}
    assessment: JsonObject = {
        "resourceType": "RiskAssessment",
        "status": "final",
        "method": {"coding": [method], "text": f"{spec.method.display} {result.version}"},
        "code": _concept((spec.code,)),
    }
    _subject(assessment, patient_id, encounter_id)
    if result.source.authored is not None:
        assessment["occurrenceDateTime"] = result.source.authored.isoformat()
    basis = [{"reference": result.source.reference}]
    if reference_of is not None:
        basis += [{"reference": reference_of(emitted.part)} for emitted in observations]
    assessment["basis"] = basis
    assessment["prediction"] = [
        {
            "outcome": {"text": spec.outcome},
            "qualitativeRisk": {
                "coding": [result.band.qualitative_risk.as_json()],
                "text": f"{result.band.band.display.lower()} ({result.definition.short_name})",
            },
        }
    ]
    return ResultResource(spec.part, assessment)
