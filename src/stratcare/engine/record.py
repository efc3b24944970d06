"""The patient's record as the decision sees it: prefetched resources, sorted by type, this patient's only.

Resources are gathered by ``resourceType`` from every prefetch value (a resource or a search Bundle), so
renaming a prefetch key in a service descriptor changes nothing here. A resource that belongs to another
patient, or that is not a well-formed resource, is never used; the reason is kept for the log.

Well-formed means the JSON types of the elements the decision reads fit FHIR R4 (a cheap structural check,
``engine.shape``; full fhir.resources validation is too slow for every call) and no element is ``null``,
``{}`` or ``[]`` (which FHIR JSON forbids), so the decision can read any element it finds without guarding
against a string where a list belongs. Missing required elements and unknown top-level elements are
tolerated here: the decision judges what it needs (an unscorable screen is reported as such) and ignores
what it never reads.

A search Bundle that is not the whole result (a ``next`` link left, fewer matches than its ``total``) is
refused outright: a record missing the page with a red flag must never reach the decision (412).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from stratcare.cdshooks.answers import incomplete_reason
from stratcare.engine.shape import CHECKED_TYPES, misshapen_element
from stratcare.errors import Issue, PrefetchUnavailable
from stratcare.json_types import JsonObject

_PATIENT_REFERENCE = re.compile(r"(?:^|/)Patient/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")
_SUBJECT_ELEMENT = {
    "Encounter": "subject",
    "QuestionnaireResponse": "subject",
    "Condition": "subject",
    "ServiceRequest": "subject",
    "Task": "for",
    "Procedure": "subject",
    "MedicationStatement": "subject",
    "MedicationRequest": "subject",
    "Observation": "subject",
}
_ELEMENT_NAME = re.compile(r"^_?[A-Za-z][A-Za-z0-9]{0,63}$")
_USED_TYPES = frozenset({"Patient", "Appointment", "PractitionerRole", *_SUBJECT_ELEMENT})


@dataclass
class PatientRecord:
    patient_id: str
    patient: JsonObject | None = None
    encounter: JsonObject | None = None
    questionnaire_responses: list[JsonObject] = field(default_factory=list)
    conditions: list[JsonObject] = field(default_factory=list)
    service_requests: list[JsonObject] = field(default_factory=list)
    tasks: list[JsonObject] = field(default_factory=list)
    """Tasks for this patient (e.g. a questionnaire already sent to the portal)."""
    appointments: list[JsonObject] = field(default_factory=list)
    practitioner_roles: list[JsonObject] = field(default_factory=list)
    """The user's PractitionerRoles (not about the patient: kept whoever they are, matched to the user
    by the decision)."""
    procedures: list[JsonObject] = field(default_factory=list)
    medications: list[JsonObject] = field(default_factory=list)
    """MedicationStatements and MedicationRequests."""
    observations: list[JsonObject] = field(default_factory=list)
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
        if isinstance(entry, Mapping) and not _is_search_outcome(entry.get("search")):
            yield entry.get("resource")


def _is_search_outcome(search: object) -> bool:
    return isinstance(search, Mapping) and search.get("mode") == "outcome"


def _empty_element(value: object) -> str | None:
    """The path of the first object member that is ``null``, ``{}`` or ``[]``, which FHIR JSON forbids.

    Nulls inside arrays are allowed: FHIR JSON pads primitive arrays with them when only some items carry
    extensions. Member names that are not element names are not echoed (the path goes to the log).
    """
    pending: list[tuple[str, object]] = [("", value)]
    while pending:
        path, current = pending.pop()
        if isinstance(current, Mapping):
            for name, member in current.items():
                label = name if isinstance(name, str) and _ELEMENT_NAME.match(name) else "?"
                where = f"{path}.{label}" if path else label
                if member is None or (isinstance(member, (dict, list)) and not member):
                    return where
                pending.append((where, member))
        elif isinstance(current, list):
            pending.extend((f"{path}.{index}", item) for index, item in enumerate(current))
    return None


def _tolerated(error_type: str, location: tuple[int | str, ...]) -> bool:
    """A missing required element, or an unknown element on the resource itself (not inside a datatype,
    where it would leave e.g. a CodeableConcept with nothing in it)."""
    return error_type.endswith("missing") or (error_type == "extra_forbidden" and len(location) == 1)


def _r4b_misfit(resource: JsonObject) -> str | None:
    """The full fhir.resources check, for the types the cheap shape check does not cover yet."""
    try:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    except ValidationError as exc:
        for error in exc.errors():
            if not _tolerated(error["type"], error["loc"]):
                return ".".join(str(part) for part in error["loc"]) or "resource"
    return None


def malformed_element(resource: JsonObject) -> str | None:
    """Where ``resource`` breaks FHIR R4 JSON (a path of element names and indexes), or None if it fits."""
    empty_at = _empty_element(resource)
    if empty_at is not None:
        return empty_at
    if resource["resourceType"] in CHECKED_TYPES:
        return misshapen_element(resource)
    return _r4b_misfit(resource)


def build_record(
    prefetch: Mapping[str, JsonObject | None], patient_id: str, encounter_id: str | None
) -> PatientRecord:
    record = PatientRecord(patient_id=patient_id)
    _refuse_incomplete(prefetch)
    for key, value in prefetch.items():
        if value is None:
            continue
        for resource in _resources_in(value):
            _place(record, key, resource, encounter_id)
    return record


def _refuse_incomplete(prefetch: Mapping[str, JsonObject | None]) -> None:
    issues = [
        Issue(
            code="incomplete",
            diagnostics=f"prefetch {key!r}: the record could not be read in full: {reason}",
            expression=(f"prefetch.{key}",),
        )
        for key, value in prefetch.items()
        if value is not None
        and value.get("resourceType") == "Bundle"
        and (reason := incomplete_reason(value)) is not None
    ]
    if issues:
        raise PrefetchUnavailable("the patient's record could not be read in full", issues)


def _place(record: PatientRecord, key: str, resource: object, encounter_id: str | None) -> None:
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        record.ignored.append(f"prefetch {key!r}: an entry is not a FHIR resource")
        return
    resource_type = resource["resourceType"]
    if resource_type == "OperationOutcome":
        return
    if resource_type not in _USED_TYPES:
        record.ignored.append(f"prefetch {key!r}: {resource_type} is not used")
        return
    if resource_type != "PractitionerRole" and _owner(resource) != record.patient_id:
        record.ignored.append(f"prefetch {key!r}: a {resource_type} not about this patient")
        return
    malformed_at = malformed_element(resource)
    if malformed_at is not None:
        record.ignored.append(f"prefetch {key!r}: a {resource_type} is not valid FHIR at {malformed_at}")
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
    elif resource_type == "Task":
        record.tasks.append(resource)
    elif resource_type == "Appointment":
        record.appointments.append(resource)
    elif resource_type == "PractitionerRole":
        record.practitioner_roles.append(resource)
    elif resource_type == "Procedure":
        record.procedures.append(resource)
    elif resource_type in ("MedicationStatement", "MedicationRequest"):
        record.medications.append(resource)
    elif resource_type == "Observation":
        record.observations.append(resource)


def _owner(resource: JsonObject) -> str | None:
    resource_type = resource["resourceType"]
    if resource_type == "Patient":
        resource_id = resource.get("id")
        return resource_id if isinstance(resource_id, str) else None
    if resource_type == "Appointment":
        return _appointment_patient(resource)
    return referenced_patient_id(resource.get(_SUBJECT_ELEMENT[resource_type]))


def _appointment_patient(appointment: JsonObject) -> str | None:
    """The one patient among an Appointment's participants (None when none or several)."""
    participants = appointment.get("participant")
    found = {
        patient
        for participant in (participants if isinstance(participants, list) else [])
        if isinstance(participant, Mapping)
        and (patient := referenced_patient_id(participant.get("actor"))) is not None
    }
    return found.pop() if len(found) == 1 else None
