"""The post-consultation letter's facts, from the record of the consultation and what came before it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from stratcare.json_types import JsonObject
from stratcare.letters.clinic_content import ResourceLink
from stratcare.letters.content import PostConsultationLetter, QuestionnaireImpact
from stratcare.letters.fhir_text import (
    as_list,
    concept_text,
    fhir_date,
    long_date,
    person_name,
    reference_display,
)
from stratcare.letters.treatments import findings, medications_tried, procedures_tried, referrals_tried


@dataclass(frozen=True)
class ConsultationRecord:
    patient: JsonObject | None
    encounter: JsonObject
    procedures: Sequence[JsonObject] = ()
    medications: Sequence[JsonObject] = ()
    service_requests: Sequence[JsonObject] = ()
    observations: Sequence[JsonObject] = ()


def general_practitioner(patient: JsonObject | None) -> JsonObject | None:
    """The patient's nominated GP (Patient.generalPractitioner), the letter's copy recipient."""
    for reference in (patient or {}).get("generalPractitioner", []):
        if isinstance(reference, dict) and (reference.get("reference") or reference.get("display")):
            return reference
    return None


def post_consultation_letter(
    record: ConsultationRecord,
    impact: tuple[QuestionnaireImpact, ...],
    patient_resources: tuple[ResourceLink, ...],
    now: datetime,
) -> PostConsultationLetter:
    encounter = record.encounter
    started = fhir_date((encounter.get("period") or {}).get("start"))
    clinic_concepts = [*as_list(encounter.get("serviceType")), *as_list(encounter.get("type"))]
    return PostConsultationLetter(
        letter_date=long_date(now.date()),
        patient_name=person_name(record.patient),
        gp_name=reference_display(general_practitioner(record.patient)),
        consultation_date=long_date(started) if started else None,
        clinic=next((text for text in map(concept_text, clinic_concepts) if text), "spine clinic"),
        clinician_name=_clinician(encounter),
        impact=impact,
        procedures=procedures_tried(record.procedures),
        medications=medications_tried(record.medications),
        referrals=referrals_tried(record.service_requests),
        findings=findings(record.observations),
        patient_resources=patient_resources,
    )


def _clinician(encounter: JsonObject) -> str | None:
    for participant in encounter.get("participant", []):
        name = reference_display(participant.get("individual")) if isinstance(participant, dict) else None
        if name:
            return name
    return None
