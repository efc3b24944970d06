"""One-button referral into a receiving service's worklist: a pended ServiceRequest plus the Task that
tracks it, created by the two ``create`` actions of one suggestion.

The ActivityDefinition names the performer (extension ``referral-performer``; R4 ActivityDefinition has no
performer reference) and the Task owner (extension ``worklist-task-owner``). Both are logical references
(by identifier) so that each EHR resolves them in its own directory.

How the Task points at its ServiceRequest: CDS Hooks 2.0 gives a suggestion's actions no transaction or
placeholder semantics, and ``create`` means "create a new resource with a server assigned id", so neither
a client id (``ServiceRequest/<uuid>``) nor a ``urn:uuid:`` placeholder (resolvable only inside a FHIR
transaction Bundle) is sure to resolve once the EHR has created the ServiceRequest. The ServiceRequest
therefore gets a business identifier in ``REFERRAL_IDENTIFIER_SYSTEM`` and ``Task.focus`` is a logical
reference by that identifier (``ServiceRequest?identifier=<system>|<value>`` finds it on any server). The
same identifier tells stratcare's referrals apart when their status is read back (``referral_status``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from stratcare.json_types import JsonObject
from stratcare.pathways.errors import PathwayContentError
from stratcare.pathways.referral_status import REFERRAL_IDENTIFIER_SYSTEM

REFERRAL_PERFORMER_EXTENSION = "http://stratcare.org/fhir/StructureDefinition/referral-performer"
WORKLIST_TASK_OWNER_EXTENSION = "http://stratcare.org/fhir/StructureDefinition/worklist-task-owner"
TASK_CODES = "http://hl7.org/fhir/CodeSystem/task-code"


@dataclass(frozen=True)
class Worklist:
    """Who performs a referral and whose worklist its Task lands in (from the ActivityDefinition)."""

    performers: tuple[JsonObject, ...]
    task_owner: JsonObject | None

    @property
    def routed(self) -> bool:
        """Whether the referral goes to a named receiving service (a performer or a worklist)."""
        return bool(self.performers) or self.task_owner is not None


NO_WORKLIST = Worklist(performers=(), task_owner=None)


def _reference(extension: JsonObject, origin: str) -> JsonObject:
    reference = extension.get("valueReference")
    if not isinstance(reference, dict) or not (reference.get("reference") or reference.get("identifier")):
        raise PathwayContentError(f"{origin}: {extension.get('url')} needs a valueReference")
    return copy.deepcopy(reference)


def read_worklist(activity_definition: JsonObject) -> Worklist:
    """The performer and Task owner an ActivityDefinition names (none when it names neither)."""
    origin = f"ActivityDefinition {activity_definition.get('url')}"
    extensions = [e for e in activity_definition.get("extension", []) if isinstance(e, dict)]
    performers = tuple(
        _reference(e, origin) for e in extensions if e.get("url") == REFERRAL_PERFORMER_EXTENSION
    )
    owners = [_reference(e, origin) for e in extensions if e.get("url") == WORKLIST_TASK_OWNER_EXTENSION]
    if len(owners) > 1:
        raise PathwayContentError(f"{origin}: names more than one worklist task owner")
    return Worklist(performers=performers, task_owner=owners[0] if owners else None)


def referral_identifier(referral_id: UUID) -> JsonObject:
    return {"system": REFERRAL_IDENTIFIER_SYSTEM, "value": str(referral_id)}


def with_worklist(request: JsonObject, worklist: Worklist, referral_id: UUID) -> JsonObject:
    """A copy of the draft ServiceRequest carrying stratcare's referral identifier and its performers."""
    tagged = copy.deepcopy(request)
    tagged["identifier"] = [*tagged.get("identifier", []), referral_identifier(referral_id)]
    if worklist.performers:
        tagged["performer"] = [copy.deepcopy(p) for p in worklist.performers]
    return tagged


def worklist_task(request: JsonObject, owner: JsonObject, referral_id: UUID, now: datetime) -> JsonObject:
    """The Task (FHIR R4) that puts ``request`` in ``owner``'s worklist."""
    focus: JsonObject = {"type": "ServiceRequest", "identifier": referral_identifier(referral_id)}
    code = request.get("code")
    if isinstance(code, dict) and isinstance(code.get("text"), str):
        focus["display"] = code["text"]
    task: JsonObject = {
        "resourceType": "Task",
        "status": "requested",
        "intent": "order",
        "code": {
            "coding": [{"system": TASK_CODES, "code": "fulfill", "display": "Fulfill the focal request"}]
        },
        "focus": focus,
        "for": copy.deepcopy(request["subject"]),
        "authoredOn": now.isoformat(),
        "owner": copy.deepcopy(owner),
    }
    if isinstance(focus.get("display"), str):
        task["description"] = focus["display"]
    for element in ("priority", "encounter"):
        if element in request:
            task[element] = copy.deepcopy(request[element])
    return task
