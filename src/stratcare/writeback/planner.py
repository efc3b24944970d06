"""What a hook call writes back: one outbox entry per scored response, or the same resources as CDS Hooks
``systemActions`` for an EHR that applies them itself.

Pure: no clock, no I/O. A write is identified by its target server and the assessment's identifier
(response id and version, instrument version, instrument), so scoring the same response again plans the
same write, which the outbox does not queue twice for that server, while another server still gets its own.

In ``systemActions`` there is no Bundle, so the ``urn:uuid`` references that tie a transaction's entries
together resolve to nothing. Each such reference is replaced by a *logical* reference (FHIR R4
``Reference.type`` + ``Reference.identifier``) on the identifier the referenced resource carries: the EHR can
resolve it by searching on that identifier, and it stays true whatever id the EHR gives the resource.
Conditional references (``Observation?identifier=...``) are not used: FHIR allows them only inside a
transaction or batch. Literal references to the EHR's own resources (``QuestionnaireResponse/…``,
``Patient/…``) are kept as they are.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from stratcare.cdshooks.models import Action
from stratcare.instruments.instrument_result import InstrumentResult, ScoringOutcome
from stratcare.json_types import JsonObject
from stratcare.writeback.outbox import PendingWrite
from stratcare.writeback.resources import Encounter, result_entries, result_identifier, transaction


def assessment_key(assessment: InstrumentResult) -> str:
    """The assessment's stable identifier: the same response, version and instrument give the same key
    (the instrument part is its declared ``result_name``, so keys of writes already queued stay valid)."""
    source = assessment.source
    return result_identifier(
        source.response_id, source.version_id, assessment.version, assessment.definition.result_name
    )


def system_action_allowed(result: InstrumentResult) -> bool:
    """False when the result raised a flag its content says no system may act on (PHQ-9 item 9): such a
    result is for a clinician to review, so nothing is written back or sent as a system action for it;
    the EHR still holds the patient's QuestionnaireResponse, and the store records the assessment."""
    return all(rule.system_action_allowed for rule in result.definition.flags if rule.name in result.flags)


def plan_writes(
    hook_instance: UUID,
    patient_id: str,
    encounter_id: str | None,
    fhir_server: str | None,
    assessments: Sequence[ScoringOutcome],
) -> list[PendingWrite]:
    """A transaction Bundle per scored assessment, for ``fhir_server``; a rejected response, or a result
    no system may act on, writes nothing."""
    where = Encounter(patient_id=patient_id, encounter_id=encounter_id)
    writes: dict[tuple[str | None, str], PendingWrite] = {}
    for assessment in assessments:
        if not isinstance(assessment, InstrumentResult) or not system_action_allowed(assessment):
            continue
        entries = result_entries(assessment, where)
        key = assessment_key(assessment)
        if entries and (fhir_server, key) not in writes:
            bundle = transaction(entries)
            writes[fhir_server, key] = PendingWrite(key, hook_instance, fhir_server, bundle)
    return list(writes.values())


def system_actions(writes: Sequence[PendingWrite]) -> list[Action]:
    """The resources of ``writes`` as CDS Hooks 2.0 ``create`` actions, one per resource, in Bundle order."""
    actions: list[Action] = []
    for write in writes:
        entries: list[JsonObject] = write.bundle.get("entry") or []
        logical = {entry["fullUrl"]: _logical_reference(entry["resource"]) for entry in entries}
        for entry in entries:
            resource = _resolve_references(copy.deepcopy(entry["resource"]), logical)
            resource.pop("id", None)
            actions.append(Action(type="create", description=_description(resource), resource=resource))
    return actions


def _logical_reference(resource: JsonObject) -> JsonObject:
    (identifier,) = resource["identifier"]
    return {"type": resource["resourceType"], "identifier": dict(identifier)}


def _resolve_references(node: Any, logical: dict[str, JsonObject]) -> Any:
    """Replace every ``{"reference": "urn:uuid:…"}`` naming an entry with that entry's logical reference."""
    if isinstance(node, dict):
        reference = node.get("reference")
        if isinstance(reference, str) and reference in logical:
            rest = {name: value for name, value in node.items() if name != "reference"}
            return copy.deepcopy(logical[reference]) | rest
        return {name: _resolve_references(value, logical) for name, value in node.items()}
    if isinstance(node, list):
        return [_resolve_references(item, logical) for item in node]
    return node


def _description(resource: JsonObject) -> str:
    code = resource.get("code")
    text = code.get("text") if isinstance(code, dict) else None
    return f"Record {resource['resourceType']}: {text}" if text else f"Record {resource['resourceType']}"
