"""Treatments tried so far and what examinations and tests showed, in words, from the patient's record.

Records entered in error, not done, or only planned are left out: the letter says what was tried.
"""

from __future__ import annotations

from collections.abc import Iterable

from stratcare.json_types import JsonObject
from stratcare.letters.content import Finding
from stratcare.letters.fhir_text import concept_text, fhir_date, long_date

# FHIR R4 status value sets (event-status, medication-statement-status, medicationrequest-status,
# request-status): the statuses that mean the treatment happened or is happening.
TRIED_PROCEDURE = frozenset({"in-progress", "on-hold", "stopped", "completed"})
TRIED_MEDICATION = frozenset({"active", "completed", "stopped", "on-hold"})
TRIED_REFERRAL = frozenset({"active", "on-hold", "completed"})
# observation-status: results that stand (registered, cancelled and entered-in-error do not).
STANDING_RESULT = frozenset({"preliminary", "final", "amended", "corrected"})
# observation-category: examination and test results (questionnaires are quoted as impact instead).
FINDING_CATEGORIES = frozenset({"exam", "imaging", "laboratory", "procedure"})
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"


def _unique(names: Iterable[str | None]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for name in names:
        if name and name.casefold() not in {known.casefold() for known in seen}:
            seen[name] = None
    return tuple(seen)


def procedures_tried(procedures: Iterable[JsonObject]) -> tuple[str, ...]:
    return _unique(concept_text(p.get("code")) for p in procedures if p.get("status") in TRIED_PROCEDURE)


def medications_tried(medications: Iterable[JsonObject]) -> tuple[str, ...]:
    """MedicationStatements and MedicationRequests named by their coded medication (a reference to a
    Medication resource with a display also counts)."""
    names = []
    for medication in medications:
        if medication.get("status") not in TRIED_MEDICATION:
            continue
        named = concept_text(medication.get("medicationCodeableConcept"))
        reference = medication.get("medicationReference")
        if named is None and isinstance(reference, dict):
            named = reference.get("display") if isinstance(reference.get("display"), str) else None
        names.append(named)
    return _unique(names)


def referrals_tried(service_requests: Iterable[JsonObject]) -> tuple[str, ...]:
    return _unique(
        concept_text(request.get("code"))
        for request in service_requests
        if request.get("status") in TRIED_REFERRAL and request.get("intent") != "proposal"
    )


def findings(observations: Iterable[JsonObject]) -> tuple[Finding, ...]:
    found = []
    for observation in observations:
        if observation.get("status") not in STANDING_RESULT or not _is_finding(observation):
            continue
        name = concept_text(observation.get("code"))
        if name is None:
            continue
        on = fhir_date(observation.get("effectiveDateTime") or observation.get("issued"))
        found.append(Finding(name=name, result=_value_text(observation), on=long_date(on) if on else None))
    return tuple(found)


def _is_finding(observation: JsonObject) -> bool:
    for category in observation.get("category", []):
        for coding in category.get("coding", []) if isinstance(category, dict) else []:
            if coding.get("system") == OBSERVATION_CATEGORY and coding.get("code") in FINDING_CATEGORIES:
                return True
    return False


def _value_text(observation: JsonObject) -> str | None:
    quantity = observation.get("valueQuantity")
    if isinstance(quantity, dict) and "value" in quantity:
        unit = quantity.get("unit") or quantity.get("code") or ""
        return f"{quantity['value']} {unit}".strip()
    for key in ("valueString", "valueBoolean", "valueInteger"):
        if key in observation:
            value = observation[key]
            return ("yes" if value else "no") if isinstance(value, bool) else str(value)
    return concept_text(observation.get("valueCodeableConcept")) or concept_text(
        (observation.get("interpretation") or [None])[0]
    )
