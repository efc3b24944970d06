"""ActivityDefinitions of kind Task that ask for a questionnaire, and the Tasks made from them.

The Task follows SDC's "Questionnaire Task" (profile sdc-task): ``code`` complete-questionnaire and one
``input`` of type questionnaire whose ``valueCanonical`` is the Questionnaire as ``url|version``
(CodeSystem http://hl7.org/fhir/uv/sdc/CodeSystem/temp). It is ``requested`` with intent ``order``, ``for``
the patient, requested by the user, with ``restriction.period.end`` as the due date, and it carries the
workflow point (extension http://stratcare.org/fhir/StructureDefinition/workflow-point, valueCode from
CodeSystem workflow-point) so that reports can tell where the screen was prompted.

What the ActivityDefinition says (R4 has no Task inputs or owner on ActivityDefinition, so two pieces are
project conventions):

- ``kind`` Task, ``code``, ``title``, ``intent``;
- extension http://stratcare.org/fhir/StructureDefinition/task-questionnaire (valueCanonical,
  ``url|version``): the Questionnaire to complete;
- ``participant[0].type``: ``patient`` - the Task is for the patient's portal (owner: the Patient);
  ``practitioner`` - the Task is for the clinic team (owner: the user's PractitionerRole.organization,
  else the user);
- ``timingDuration`` (days): the due date after ``now``; a patient Task tied to a booked Appointment is due
  at the appointment's start instead when that is sooner, so the screen is answered before the visit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from stratcare.fhir_datetime import parse_fhir_datetime
from stratcare.json_types import JsonObject
from stratcare.pathways.codes import Concept
from stratcare.pathways.errors import PathwayContentError
from stratcare.pathways.workflow import SDC_TEMP, WorkflowFacts

TASK_QUESTIONNAIRE_EXTENSION = "http://stratcare.org/fhir/StructureDefinition/task-questionnaire"
WORKFLOW_POINT_EXTENSION = "http://stratcare.org/fhir/StructureDefinition/workflow-point"
OWNER_TYPES = frozenset({"patient", "practitioner"})


@dataclass(frozen=True)
class TaskDefinition:
    canonical: str
    title: str
    intent: str
    code: Concept
    questionnaire: str
    """``url|version`` of the Questionnaire to complete."""
    owner: str
    """``patient`` or ``practitioner`` (the clinic team)."""
    due_days: int


def load_task_definition(definition: JsonObject, origin: str) -> TaskDefinition:
    """Check an ActivityDefinition of kind Task; raise PathwayContentError if it cannot be used."""
    questionnaire = next(
        (
            extension.get("valueCanonical")
            for extension in definition.get("extension", [])
            if extension.get("url") == TASK_QUESTIONNAIRE_EXTENSION
        ),
        None,
    )
    if not isinstance(questionnaire, str) or "|" not in questionnaire:
        raise PathwayContentError(f"{origin}: needs a task-questionnaire extension with url|version")
    participants = definition.get("participant", [])
    owner = participants[0].get("type") if participants else None
    if owner not in OWNER_TYPES:
        raise PathwayContentError(f"{origin}: participant[0].type must be patient or practitioner")
    timing = definition.get("timingDuration", {})
    if timing.get("code") != "d" or not isinstance(timing.get("value"), int) or timing["value"] < 0:
        raise PathwayContentError(f"{origin}: timingDuration must be whole days (UCUM d)")
    title, intent, version = definition.get("title"), definition.get("intent"), definition.get("version")
    if not isinstance(title, str) or not isinstance(intent, str):
        raise PathwayContentError(f"{origin}: needs a title and an intent")
    return TaskDefinition(
        canonical=f"{definition['url']}|{version}" if version else str(definition["url"]),
        title=title,
        intent=intent,
        code=Concept.from_json(definition.get("code"), origin),
        questionnaire=questionnaire,
        owner=str(owner),
        due_days=timing["value"],
    )


def _due(definition: TaskDefinition, workflow: WorkflowFacts, now: datetime) -> datetime:
    due = now + timedelta(days=definition.due_days)
    if definition.owner == "patient":
        starts = [
            start
            for appointment in workflow.appointments
            if (start := parse_fhir_datetime(appointment.get("start"))) is not None and start > now
        ]
        due = min([due, *starts])
    return due


def _owner(definition: TaskDefinition, patient_id: str, workflow: WorkflowFacts) -> JsonObject:
    if definition.owner == "patient":
        return {"reference": f"Patient/{patient_id}"}
    role = workflow.practitioner_role or {}
    organization = role.get("organization")
    if isinstance(organization, dict) and isinstance(organization.get("reference"), str):
        return {"reference": organization["reference"]}
    return {"reference": workflow.user_id}


def questionnaire_task(
    definition: TaskDefinition,
    patient_id: str,
    encounter_id: str | None,
    workflow: WorkflowFacts,
    now: datetime,
) -> JsonObject:
    """The FHIR R4 Task a suggestion creates."""
    task: JsonObject = {
        "resourceType": "Task",
        "extension": [{"url": WORKFLOW_POINT_EXTENSION, "valueCode": workflow.workflow_point}],
        "instantiatesCanonical": definition.canonical,
        "status": "requested",
        "intent": definition.intent,
        "code": definition.code.to_json(),
        "description": definition.title,
        "for": {"reference": f"Patient/{patient_id}"},
        "authoredOn": now.isoformat(),
        "requester": {"reference": workflow.user_id},
        "owner": _owner(definition, patient_id, workflow),
        "restriction": {"period": {"end": _due(definition, workflow, now).isoformat()}},
        "input": [
            {
                "type": {"coding": [{"system": SDC_TEMP, "code": "questionnaire"}]},
                "valueCanonical": definition.questionnaire,
            }
        ],
    }
    if encounter_id:
        task["encounter"] = {"reference": f"Encounter/{encounter_id}"}
    booked = [a for a in workflow.appointments if isinstance(a.get("id"), str)]
    if definition.owner == "patient" and booked:
        task["focus"] = {"reference": f"Appointment/{booked[0]['id']}"}
    return task
