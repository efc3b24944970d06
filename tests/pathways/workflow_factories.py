"""Builders for the workflow side of pathway inputs: draft orders, Appointments, Tasks, roles."""

from __future__ import annotations

from typing import Any

from stratcare.json_types import JsonObject
from stratcare.pathways.workflow import WorkflowFacts

from .factories import SNOMED, condition

CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
SDC = "http://hl7.org/fhir/uv/sdc/CodeSystem/temp"
MRI_LUMBAR = "394451000119106"
OPIOID = "360204007"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
XR_LUMBAR_LOINC = "24970-6"  # XR Lumbar spine AP and Lateral
START_BACK_Q = "http://stratcare.org/fhir/Questionnaire/start-back"
ORDER_REVIEW = "http://stratcare.org/fhir/PlanDefinition/start-back-order-review"
PRE_VISIT = "http://stratcare.org/fhir/PlanDefinition/start-back-pre-visit"


def categorised(code: str, category: str, recorded: str | None = None, **kwargs: Any) -> JsonObject:
    resource = condition(code, **kwargs)
    resource["category"] = [{"coding": [{"system": CATEGORY, "code": category}]}]
    if recorded:
        resource["recordedDate"] = recorded
    return resource


def draft_service_request(code: str, system: str = SNOMED, order_id: str = "draft-1") -> JsonObject:
    """A draft order as an EHR puts it in draftOrders: no authoredOn, no meta."""
    return {
        "resourceType": "ServiceRequest",
        "id": order_id,
        "status": "draft",
        "intent": "order",
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": "Patient/p1"},
    }


def draft_medication(code: str = OPIOID, order_id: str = "draft-med") -> JsonObject:
    return {
        "resourceType": "MedicationRequest",
        "id": order_id,
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": SNOMED, "code": code}]},
        "subject": {"reference": "Patient/p1"},
    }


ENDOCET = {
    "system": RXNORM,
    "code": "1049216",
    "display": "acetaminophen 325 MG / oxycodone hydrochloride 10 MG Oral Tablet [Endocet]",
}
"""An RxNorm branded product (SBD), as the CDC opioid guideline IG's oxycodone ValueSet lists it."""


def rxnorm_product_order(
    ingredients: tuple[tuple[str, str], ...] | None, order_id: str = "rx-1"
) -> JsonObject:
    """A draft MedicationRequest for an RxNorm product, as EHRs send draft orders: the product on a
    contained Medication, its ingredients (``(rxcui, name)``) on ``ingredient.itemCodeableConcept``.
    Without ingredients the order carries the product code only, in medicationCodeableConcept."""
    order: JsonObject = {
        "resourceType": "MedicationRequest",
        "id": order_id,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "dosageInstruction": [{"text": "1 tablet every 6 hours as needed for pain"}],
    }
    if ingredients is None:
        return order | {"medicationCodeableConcept": {"coding": [dict(ENDOCET)], "text": "Endocet 10/325"}}
    medication = {
        "resourceType": "Medication",
        "id": "med",
        "code": {"coding": [dict(ENDOCET)], "text": "Endocet 10/325"},
        "form": {"text": "Oral Tablet"},
        "ingredient": [
            {
                "itemCodeableConcept": {"coding": [{"system": RXNORM, "code": code, "display": name}]},
                "isActive": True,
            }
            for code, name in ingredients
        ],
    }
    return order | {"contained": [medication], "medicationReference": {"reference": "#med"}}


def appointment(
    reason: str | None = "279039007", start: str = "2026-11-27T09:30:00Z", **extra: Any
) -> JsonObject:
    resource: JsonObject = {
        "resourceType": "Appointment",
        "id": "appt-1",
        "status": "proposed",
        "start": start,
        "participant": [
            {"actor": {"reference": "Patient/p1"}, "status": "accepted"},
            {"actor": {"reference": "Practitioner/d1"}, "status": "accepted"},
        ],
    }
    if reason:
        resource["reasonCode"] = [{"coding": [{"system": SNOMED, "code": reason}]}]
    return resource | extra


def questionnaire_task(status: str = "requested", canonical: str = f"{START_BACK_Q}|1.0.0") -> JsonObject:
    return {
        "resourceType": "Task",
        "id": "task-1",
        "status": status,
        "intent": "order",
        "code": {"coding": [{"system": SDC, "code": "complete-questionnaire"}]},
        "for": {"reference": "Patient/p1"},
        "input": [
            {"type": {"coding": [{"system": SDC, "code": "questionnaire"}]}, "valueCanonical": canonical}
        ],
    }


def workflow(
    hook: str = "encounter-start",
    point: str = "clinician",
    role: str = "clinician",
    user: str = "Practitioner/d1",
    **extra: Any,
) -> WorkflowFacts:
    return WorkflowFacts(hook=hook, user_id=user, workflow_point=point, user_role=role, **extra)


def staff(**extra: Any) -> WorkflowFacts:
    organization = {"reference": "Organization/clinic-1"}
    role = {"resourceType": "PractitionerRole", "id": "fd1", "organization": organization}
    return workflow(
        point="front-desk", role="staff", user="PractitionerRole/fd1", practitioner_role=role, **extra
    )
