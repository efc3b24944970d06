"""Workflow facts for one call: where in the visit it happens, who the user is, and the call's own orders.

The workflow point comes from content (ConceptMap workflow-point-by-role): first the hook (appointment-book
is pre-visit; order-select and order-sign are the clinician's), then the codes of the user's
PractitionerRole (``context.userId`` is that PractitionerRole, or a Practitioner it names). A user with no
PractitionerRole in the record, or none whose code is mapped, counts as a clinician: the behaviour before
roles were read. Its audience (staff or clinician) comes from CodeSystem workflow-point.

The call's draft orders (with order-select's ``selections``: the ones just chosen) and booked Appointments
are kept only when they are about the patient in context and are well-formed FHIR, like every prefetched
resource (``record``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from stratcare.cdshooks.context import HookContext
from stratcare.content import ContentRepository
from stratcare.engine.record import PatientRecord, malformed_element, referenced_patient_id
from stratcare.json_types import JsonObject
from stratcare.pathways.workflow import WorkflowFacts

WORKFLOW_POINT_MAP = "http://stratcare.org/fhir/ConceptMap/workflow-point-by-role"
WORKFLOW_POINT_SYSTEM = "http://stratcare.org/fhir/CodeSystem/workflow-point"
HOOK_SYSTEM = "https://cds-hooks.org/hooks"
DEFAULT_POINT = "clinician"


@dataclass(frozen=True)
class WorkflowPoints:
    by_hook: dict[str, str]
    by_role: tuple[tuple[str, str, str], ...]
    """(system, code, point) in the ConceptMap's order."""
    audience: dict[str, str]

    @classmethod
    def from_content(cls, content: ContentRepository) -> WorkflowPoints:
        concept_map = content.resolve("ConceptMap", WORKFLOW_POINT_MAP)
        by_hook: dict[str, str] = {}
        by_role: list[tuple[str, str, str]] = []
        for group in concept_map.get("group", []):
            for element in group.get("element", []):
                (target,) = element["target"]
                if group["source"] == HOOK_SYSTEM:
                    by_hook[element["code"]] = target["code"]
                else:
                    by_role.append((group["source"], element["code"], target["code"]))
        points = content.resolve("CodeSystem", WORKFLOW_POINT_SYSTEM)
        audience = {
            concept["code"]: next(p["valueCode"] for p in concept["property"] if p["code"] == "audience")
            for concept in points["concept"]
        }
        unknown = {point for _, _, point in by_role} | set(by_hook.values())
        if unknown - audience.keys():
            raise ValueError(f"{WORKFLOW_POINT_MAP}: unknown workflow points {unknown - audience.keys()}")
        return cls(by_hook, tuple(by_role), audience)

    def point(self, hook: str, roles: Iterable[JsonObject]) -> str:
        if hook in self.by_hook:
            return self.by_hook[hook]
        held = {
            (coding.get("system"), coding.get("code"))
            for role in roles
            for concept in _list(role.get("code"))
            for coding in _list(concept.get("coding") if isinstance(concept, dict) else None)
            if isinstance(coding, dict)
        }
        return next((point for system, code, point in self.by_role if (system, code) in held), DEFAULT_POINT)


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def user_roles(user_id: str, roles: Iterable[JsonObject]) -> list[JsonObject]:
    """The active PractitionerRoles that are the user, or that name the user as their practitioner."""
    user_type, _, user = user_id.partition("/")
    matched = []
    for role in roles:
        if role.get("active") is False:
            continue
        practitioner = role.get("practitioner")
        reference = practitioner.get("reference") if isinstance(practitioner, dict) else None
        if (user_type == "PractitionerRole" and role.get("id") == user) or (
            user_type == "Practitioner"
            and isinstance(reference, str)
            and reference.rsplit("/", 2)[-2:] == ["Practitioner", user]
        ):
            matched.append(role)
    return matched


def patient_draft_orders(context: HookContext) -> tuple[JsonObject, ...]:
    """The call's draft orders for its patient (well-formed ones only)."""
    return _this_patients(context.draft_orders, context.patientId)


def _this_patients(resources: Iterable[JsonObject], patient_id: str) -> tuple[JsonObject, ...]:
    return tuple(
        resource
        for resource in resources
        if referenced_patient_id(resource.get("subject")) == patient_id
        and malformed_element(resource) is None
    )


def _appointments(context: HookContext, record: PatientRecord) -> tuple[JsonObject, ...]:
    booked = [
        appointment
        for appointment in context.booked
        if malformed_element(appointment) is None
        and any(
            isinstance(participant, dict)
            and referenced_patient_id(participant.get("actor")) == context.patientId
            for participant in _list(appointment.get("participant"))
        )
    ]
    return (*booked, *record.appointments)


def workflow_facts(
    context: HookContext, hook: str, record: PatientRecord, points: WorkflowPoints
) -> WorkflowFacts:
    roles = user_roles(context.userId, record.practitioner_roles)
    point = points.point(hook, roles)
    return WorkflowFacts(
        hook=hook,
        user_id=context.userId,
        workflow_point=point,
        user_role=points.audience[point],
        practitioner_role=roles[0] if roles else None,
        draft_orders=patient_draft_orders(context),
        selections=context.selected,
        appointments=_appointments(context, record),
        tasks=tuple(record.tasks),
    )
