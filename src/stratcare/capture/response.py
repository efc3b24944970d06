"""The QuestionnaireResponse a completed form becomes (FHIR R4), with where in the visit it was done.

``questionnaire`` is the exact ``url|version`` the form showed; every answer is a ``valueCoding`` copied from
the Questionnaire's answerOption. The patient answered, so the patient is ``author`` and ``source``.
The workflow point extension (docs/capture.md) records where in the visit the screen was prompted and
where it was completed, with codes from ``terminology/CodeSystem-workflow-point.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stratcare.capture.form import Form, FormItem
from stratcare.capture.workflow import WORKFLOW_POINT_SYSTEM, WorkflowPoints
from stratcare.json_types import JsonObject

WORKFLOW_POINT_EXTENSION = "http://stratcare.org/fhir/StructureDefinition/workflow-point"
RESPONSE_IDENTIFIER_SYSTEM = "http://stratcare.org/fhir/sid/capture-response"


@dataclass(frozen=True)
class ResponseContext:
    response_id: str
    """Stratcare's identifier of this screen: also the response's logical id on the EHR's server."""
    patient_id: str
    encounter_id: str | None
    authored: datetime
    points: WorkflowPoints


def build_response(form: Form, answers: dict[str, Any], context: ResponseContext) -> JsonObject:
    """``answers`` maps linkId to the chosen ``AnswerChoice`` (already checked complete)."""
    patient = {"reference": f"Patient/{context.patient_id}"}
    response: JsonObject = {
        "resourceType": "QuestionnaireResponse",
        "id": context.response_id,
        "extension": [_workflow_extension(context.points)],
        "identifier": {"system": RESPONSE_IDENTIFIER_SYSTEM, "value": context.response_id},
        "questionnaire": form.canonical,
        "status": "completed",
        "subject": patient,
        "authored": context.authored.isoformat(),
        "author": patient,
        "source": patient,
        "item": _items(form.items, answers),
    }
    if context.encounter_id is not None:
        response["encounter"] = {"reference": f"Encounter/{context.encounter_id}"}
    return response


def _workflow_extension(points: WorkflowPoints) -> JsonObject:
    return {
        "url": WORKFLOW_POINT_EXTENSION,
        "extension": [
            {"url": "prompted", "valueCoding": {"system": WORKFLOW_POINT_SYSTEM, "code": points.prompted}},
            {"url": "completed", "valueCoding": {"system": WORKFLOW_POINT_SYSTEM, "code": points.completed}},
        ],
    }


def _items(items: tuple[FormItem, ...], answers: dict[str, Any]) -> list[JsonObject]:
    built: list[JsonObject] = []
    for item in items:
        if item.kind == "choice" and item.link_id in answers:
            choice = answers[item.link_id]
            coding = {"system": choice.system, "code": choice.code, "display": choice.display}
            built.append({"linkId": item.link_id, "text": item.text, "answer": [{"valueCoding": coding}]})
        elif item.kind == "group":
            children = _items(item.children, answers)
            if children:
                built.append({"linkId": item.link_id, "text": item.text, "item": children})
    return built
