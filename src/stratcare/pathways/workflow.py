"""Workflow facts for one hook call, and the FHIRPath variables made from them.

Where a call happens in the visit and what the record says about why the patient is here, from coded
data only (never free text):

``%userRole``
    ``'staff'`` or ``'clinician'``: the audience of the workflow point (CodeSystem workflow-point).
``%workflowPoint``
    ``'pre-visit'``, ``'front-desk'``, ``'rooming'`` or ``'clinician'`` (ConceptMap workflow-point-by-role).
``%draftOrders``
    The call's draft orders (order-select, order-sign ``draftOrders``) for this patient: all of them count
    as orders already being placed (an existing referral).
``%selectedOrders``
    The draft orders the call is about: on order-select the ones its ``selections`` name (just chosen by
    the clinician), on order-sign every draft order (all are being signed). Cards about an order read this.
``%selectedMedications``
    The medication concepts of the selected MedicationRequests (``medications``): the product coding and,
    from a contained Medication, its code and ingredients, so an ingredient ValueSet matches a product.
``%appointments``
    The Appointments being booked (appointment-book ``appointments``) and any prefetched, for this patient.
``%encounterReasons``, ``%appointmentReasons``
    CodeableConcepts: the Encounter's / Appointments' ``reasonCode``, and the ``code`` of each Condition
    their ``reasonReference`` names (when that Condition is in the record).
``%recentConditions``
    Active Conditions that say why the patient consults: category ``problem-list-item`` (while active), or
    ``encounter-diagnosis`` recorded (``recordedDate``, else ``onsetDateTime``) within the pathway setting
    ``identificationWindowDays``; an undated encounter diagnosis, or any when the setting is absent, is
    not recent.
``%openQuestionnaireTasks``
    The Questionnaire urls (without ``|version``) of the patient's open Tasks asking for a questionnaire to
    be completed (SDC ``complete-questionnaire``), so a pathway does not send the same screen twice.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from stratcare.fhir_datetime import parse_fhir_datetime
from stratcare.json_types import JsonObject
from stratcare.pathways.active_conditions import active_conditions
from stratcare.pathways.medications import ordered_medications

SDC_TEMP = "http://hl7.org/fhir/uv/sdc/CodeSystem/temp"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
IDENTIFICATION_WINDOW_SETTING = "identificationWindowDays"
OPEN_TASK_STATUSES = frozenset(
    {"draft", "requested", "received", "accepted", "ready", "in-progress", "on-hold"}
)


@dataclass(frozen=True, kw_only=True)
class WorkflowFacts:
    """The call's hook, user and workflow point, and the resources that came with it (this patient's)."""

    hook: str
    user_id: str
    workflow_point: str
    user_role: str
    practitioner_role: JsonObject | None = None
    """The user's PractitionerRole, when the record holds it (its organization owns staff Tasks)."""
    draft_orders: tuple[JsonObject, ...] = ()
    selections: tuple[str, ...] | None = None
    """order-select's ``selections`` (``Type/id``); None: every draft order is selected (order-sign)."""
    appointments: tuple[JsonObject, ...] = ()
    tasks: tuple[JsonObject, ...] = ()

    @property
    def selected_orders(self) -> tuple[JsonObject, ...]:
        """The draft orders the call is about (see ``%selectedOrders``)."""
        if self.selections is None:
            return self.draft_orders
        chosen = set(self.selections)
        return tuple(
            order for order in self.draft_orders if f"{order.get('resourceType')}/{order.get('id')}" in chosen
        )


def _codings(concept: object) -> list[JsonObject]:
    coding = concept.get("coding") if isinstance(concept, dict) else None
    return [c for c in coding if isinstance(c, dict)] if isinstance(coding, list) else []


def _has_code(concept: object, system: str, code: str) -> bool:
    return any(c.get("system") == system and c.get("code") == code for c in _codings(concept))


def _reasons(resources: Iterable[JsonObject], conditions: Iterable[JsonObject]) -> list[JsonObject]:
    by_reference = {
        f"Condition/{condition['id']}": condition
        for condition in conditions
        if isinstance(condition.get("id"), str)
    }
    reasons: list[JsonObject] = []
    for resource in resources:
        reasons.extend(c for c in resource.get("reasonCode", []) if isinstance(c, dict))
        for reference in resource.get("reasonReference", []):
            target = by_reference.get(reference.get("reference", "")) if isinstance(reference, dict) else None
            if target is not None and isinstance(target.get("code"), dict):
                reasons.append(target["code"])
    return copy.deepcopy(reasons)


def _recorded(condition: JsonObject) -> datetime | None:
    return parse_fhir_datetime(condition.get("recordedDate")) or parse_fhir_datetime(
        condition.get("onsetDateTime")
    )


def recent_conditions(
    conditions: Iterable[JsonObject], now: datetime, window_days: int | None
) -> list[JsonObject]:
    """The active problem-list items, and the active encounter diagnoses made within the window."""
    recent = []
    for condition in active_conditions(conditions):
        categories = condition.get("category", [])
        if any(_has_code(c, CONDITION_CATEGORY, "problem-list-item") for c in categories):
            recent.append(condition)
        elif window_days is not None and any(
            _has_code(c, CONDITION_CATEGORY, "encounter-diagnosis") for c in categories
        ):
            when = _recorded(condition)
            if when is not None and 0 <= (now - when).days <= window_days:
                recent.append(condition)
    return recent


def open_questionnaire_tasks(tasks: Iterable[JsonObject]) -> list[str]:
    """Questionnaire urls of open SDC complete-questionnaire Tasks."""
    urls = []
    for task in tasks:
        if task.get("status") not in OPEN_TASK_STATUSES:
            continue
        if not _has_code(task.get("code"), SDC_TEMP, "complete-questionnaire"):
            continue
        for item in task.get("input", []):
            value = item.get("valueCanonical") if isinstance(item, dict) else None
            if isinstance(value, str) and _has_code(item.get("type"), SDC_TEMP, "questionnaire"):
                urls.append(value.split("|", 1)[0])
    return urls


def bind_workflow(
    workflow: WorkflowFacts | None,
    encounter: JsonObject | None,
    conditions: Iterable[JsonObject],
    now: datetime,
    settings: Mapping[str, object],
) -> dict[str, object]:
    """The workflow variables for one evaluation (see the module docstring)."""
    conditions = list(conditions)
    window = settings.get(IDENTIFICATION_WINDOW_SETTING)
    facts = workflow or WorkflowFacts(hook="", user_id="", workflow_point="clinician", user_role="clinician")
    return {
        "userRole": facts.user_role,
        "workflowPoint": facts.workflow_point,
        "draftOrders": copy.deepcopy(list(facts.draft_orders)),
        "selectedOrders": copy.deepcopy(list(facts.selected_orders)),
        "selectedMedications": copy.deepcopy(ordered_medications(facts.selected_orders)),
        "appointments": copy.deepcopy(list(facts.appointments)),
        "encounterReasons": _reasons([encounter] if encounter else [], conditions),
        "appointmentReasons": _reasons(facts.appointments, conditions),
        "recentConditions": copy.deepcopy(
            recent_conditions(conditions, now, window if isinstance(window, int) else None)
        ),
        "openQuestionnaireTasks": open_questionnaire_tasks(facts.tasks),
    }
