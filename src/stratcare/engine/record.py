"""The patient's record as the decision sees it: prefetched resources, sorted by type, this patient's only.

Resources are gathered by ``resourceType`` from every prefetch value (a resource or a search Bundle), so
renaming a prefetch key in a service descriptor changes nothing here. A resource that belongs to another
patient, or that is not a well-formed resource, is never used; the reason is kept for the log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

JsonObject = dict[str, Any]

_PATIENT_REFERENCE = re.compile(r"(?:^|/)Patient/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")
_SUBJECT_ELEMENT = {
    "Encounter": "subject",
    "QuestionnaireResponse": "subject",
    "Condition": "subject",
    "ServiceRequest": "subject",
}


@dataclass
class PatientRecord:
    patient_id: str
    patient: JsonObject | None = None
    encounter: JsonObject | None = None
    questionnaire_responses: list[JsonObject] = field(default_factory=list)
    conditions: list[JsonObject] = field(default_factory=list)
    service_requests: list[JsonObject] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    """Why resources were left out (no identifiers or patient data: safe to log)."""


def referenced_patient_id(reference: object) -> str | None:
    """The patient id of ``{"reference": "Patient/x"}`` (relative, absolute or versioned), else None."""
    if not isinstance(reference, Mapping):
        return None
    value = reference.get("reference")
    if not isinstance(value, str):
        return None
    match = _PATIENT_REFERENCE.search(value)
    return match.group(1) if match else None


def _resources_in(value: JsonObject) -> Iterable[object]:
    if value.get("resourceType") != "Bundle":
        yield value
        return
    entries = value.get("entry")
    if not isinstance(entries, list):
        return
    for entry in entries:
        if isinstance(entry, Mapping) and entry.get("search", {}).get("mode") != "outcome":
            yield entry.get("resource")


def build_record(
    prefetch: Mapping[str, JsonObject | None], patient_id: str, encounter_id: str | None
) -> PatientRecord:
    record = PatientRecord(patient_id=patient_id)
    for key, value in prefetch.items():
        if value is None:
            continue
        for resource in _resources_in(value):
            _place(record, key, resource, encounter_id)
    return record


def _place(record: PatientRecord, key: str, resource: object, encounter_id: str | None) -> None:
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        record.ignored.append(f"prefetch {key!r}: an entry is not a FHIR resource")
        return
    resource_type = resource["resourceType"]
    if resource_type == "OperationOutcome":
        return
    owner = _owner(resource)
    if owner != record.patient_id:
        record.ignored.append(f"prefetch {key!r}: a {resource_type} not about this patient")
        return
    if resource_type == "Patient":
        record.patient = resource
    elif resource_type == "Encounter":
        if encounter_id is None or resource.get("id") == encounter_id:
            record.encounter = resource
    elif resource_type == "QuestionnaireResponse":
        record.questionnaire_responses.append(resource)
    elif resource_type == "Condition":
        record.conditions.append(resource)
    elif resource_type == "ServiceRequest":
        record.service_requests.append(resource)
    else:
        record.ignored.append(f"prefetch {key!r}: {resource_type} is not used")


def _owner(resource: JsonObject) -> str | None:
    resource_type = resource["resourceType"]
    if resource_type == "Patient":
        resource_id = resource.get("id")
        return resource_id if isinstance(resource_id, str) else None
    element = _SUBJECT_ELEMENT.get(resource_type)
    return referenced_patient_id(resource.get(element)) if element else None
