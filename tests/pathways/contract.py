"""Evaluate a PlanDefinition's actions over FHIRPath variables shaped as the instrument contract gives them
(``%<instrumentKey>`` with named scores, ``band``, ``flags``, ``response``, ``screenedOn``, ``ageDays``;
``%rejected`` and ``%unavailable`` by key), so content can be tested without the engine."""

from __future__ import annotations

from typing import Any

from stratcare.pathways import Pathway

JsonObject = dict[str, Any]
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ADULT: JsonObject = {"resourceType": "Patient", "id": "p1", "birthDate": "1970-05-14"}


def condition(system: str, code: str, condition_id: str = "c1") -> JsonObject:
    return {
        "resourceType": "Condition",
        "id": condition_id,
        "clinicalStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
            ]
        },
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": "Patient/p1"},
        "recordedDate": "2026-11-01",
    }


def result(
    age_days: int | None = 3, response: str = "QuestionnaireResponse/r1", **fields: object
) -> JsonObject:
    found: JsonObject = {"response": response, "screenedOn": "2026-11-17", "flags": [], **fields}
    if age_days is not None:
        found["ageDays"] = age_days
    return found


def variables(pathway: Pathway, **overrides: object) -> dict[str, object]:
    bound: dict[str, object] = {
        "ageYears": 56,
        "settings": dict(pathway.definition.settings),
        "patient": dict(ADULT),
        "encounter": [],
        "conditions": [],
        "serviceRequests": [],
        "results": {},
        "rejected": {},
        "unavailable": {},
        "referrals": [],
        "stratificationTool": [],
        "painSites": [],
        "startBack": [],
        "startMsk": [],
        "phq9": [],
        "gad7": [],
    }
    bound.update(overrides)
    return bound


def applied(pathway: Pathway, bound: dict[str, object]) -> list[str]:
    """The ids of the actions whose every condition holds, in PlanDefinition order."""
    context = dict(ADULT)
    return [
        spec.id
        for spec in pathway.definition.actions
        if all(condition.is_true(context, bound) for condition in spec.conditions)
    ]
