"""Closing the loop: stratcare's own referrals and their current status, read from ServiceRequest and Task.

A ServiceRequest is stratcare's when it carries an identifier in ``REFERRAL_IDENTIFIER_SYSTEM`` (assigned
when the suggestion is made) or when its ``instantiatesCanonical`` names one of stratcare's
ActivityDefinitions (an EHR that re-keys a draft may drop the identifier but keeps the canonical), other than
a screening order (an ActivityDefinition naming the Questionnaire to collect, ``cpg-collectWith``). Its
Task is the one whose ``focus`` references it, literally (``ServiceRequest/<id>``) or logically by the same
stratcare identifier; a Task whose focus carries a stratcare identifier counts even when its
ServiceRequest was not fetched. Other patients' resources and entered-in-error ones are ignored.

The status is the Task's when a Task tracks the referral (the receiving service works the Task: FHIR R4
Task.status), otherwise the ServiceRequest's, mapped onto the Task vocabulary (``active`` is
``requested``, ``revoked`` is ``cancelled``; ``draft`` means not yet sent).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from stratcare.fhir_datetime import parse_fhir_datetime
from stratcare.json_types import JsonObject

REFERRAL_IDENTIFIER_SYSTEM = "http://stratcare.org/fhir/sid/referral"
STRATCARE_DEFINITIONS = "http://stratcare.org/fhir/ActivityDefinition/"
CLOSED_STATUSES = frozenset({"completed", "cancelled", "rejected", "failed"})
_REQUEST_STATUS = {
    "draft": "draft",
    "active": "requested",
    "on-hold": "on-hold",
    "revoked": "cancelled",
    "completed": "completed",
}


@dataclass(frozen=True)
class Referral:
    service_request: JsonObject | None
    task: JsonObject | None
    definition: str | None
    title: str
    status: str
    ordered_at: datetime | None


def _identifiers(resource: JsonObject) -> set[str]:
    found = resource.get("identifier")
    items = found if isinstance(found, list) else [found] if isinstance(found, dict) else []
    return {
        str(item["value"])
        for item in items
        if isinstance(item, dict) and item.get("system") == REFERRAL_IDENTIFIER_SYSTEM and item.get("value")
    }


def _definition(request: JsonObject) -> str | None:
    canonicals = request.get("instantiatesCanonical")
    for canonical in canonicals if isinstance(canonicals, list) else []:
        if isinstance(canonical, str) and canonical.startswith(STRATCARE_DEFINITIONS):
            return canonical.split("|", 1)[0]
    return None


def _about(resource: JsonObject, element: str, patient_id: str) -> bool:
    reference = resource.get(element)
    return isinstance(reference, dict) and reference.get("reference") in (
        f"Patient/{patient_id}",
        patient_id,
    )


def _ordered_at(resource: JsonObject) -> datetime | None:
    meta = resource.get("meta")
    last_updated = meta.get("lastUpdated") if isinstance(meta, dict) else None
    return parse_fhir_datetime(resource.get("authoredOn")) or parse_fhir_datetime(last_updated)


def _title(request: JsonObject | None, task: JsonObject | None) -> str:
    for resource in (request, task):
        concept = resource.get("code") if resource else None
        if isinstance(concept, dict):
            if isinstance(concept.get("text"), str) and concept["text"].strip():
                return str(concept["text"])
            for coding in concept.get("coding", []):
                if isinstance(coding, dict) and isinstance(coding.get("display"), str):
                    return str(coding["display"])
    return "Referral"


def _focus_keys(task: JsonObject) -> tuple[str | None, set[str]]:
    focus = task.get("focus")
    if not isinstance(focus, dict):
        return None, set()
    reference = focus.get("reference")
    literal = reference if isinstance(reference, str) and reference.startswith("ServiceRequest/") else None
    return literal, _identifiers({"identifier": focus.get("identifier")})


def _is_referral(request: JsonObject, screening_orders: frozenset[str]) -> bool:
    if _identifiers(request):
        return True
    definition = _definition(request)
    return definition is not None and definition not in screening_orders


def stratcare_referrals(
    service_requests: Iterable[JsonObject],
    tasks: Iterable[JsonObject],
    patient_id: str,
    screening_orders: frozenset[str] = frozenset(),
) -> list[Referral]:
    """The patient's stratcare referrals with their status, newest first (undated last).

    ``screening_orders`` are the canonicals (no version) of stratcare's ActivityDefinitions that order a
    screen within the clinic, not a referral to another service: a request made from one is no referral.
    """
    requests = [
        request
        for request in service_requests
        if request.get("status") != "entered-in-error"
        and _about(request, "subject", patient_id)
        and _is_referral(request, screening_orders)
    ]
    live_tasks = [
        task for task in tasks if task.get("status") != "entered-in-error" and _about(task, "for", patient_id)
    ]
    used: set[int] = set()
    referrals: list[Referral] = []
    for request in requests:
        literal = f"ServiceRequest/{request.get('id')}"
        keys = _identifiers(request)
        task = next(
            (
                t
                for t in live_tasks
                if id(t) not in used
                and ((focus := _focus_keys(t))[0] == literal or (keys and focus[1] & keys))
            ),
            None,
        )
        if task is not None:
            used.add(id(task))
        status = str(task["status"]) if task else _REQUEST_STATUS.get(str(request.get("status")), "unknown")
        referrals.append(
            Referral(request, task, _definition(request), _title(request, task), status, _ordered_at(request))
        )
    for task in live_tasks:
        if id(task) not in used and _focus_keys(task)[1]:
            referrals.append(
                Referral(None, task, None, _title(None, task), str(task["status"]), _ordered_at(task))
            )
    return sorted(referrals, key=lambda r: -r.ordered_at.timestamp() if r.ordered_at else float("inf"))


def _status_reason(task: JsonObject | None) -> str | None:
    reason = task.get("statusReason") if task else None
    text = reason.get("text") if isinstance(reason, dict) else None
    return text if isinstance(text, str) and text.strip() else None


def referral_variables(referrals: Iterable[Referral], now: datetime) -> list[JsonObject]:
    """``%referrals`` for FHIRPath (see PlanDefinition stratcare-referral-status)."""
    bound: list[JsonObject] = []
    for referral in referrals:
        entry: JsonObject = {
            "title": referral.title,
            "status": referral.status,
            "open": referral.status not in CLOSED_STATUSES,
        }
        if referral.definition:
            entry["definition"] = referral.definition
        entry["resource"] = copy.deepcopy(referral.service_request or referral.task)
        if referral.service_request is not None:
            entry["request"] = f"ServiceRequest/{referral.service_request.get('id')}"
        if referral.task is not None:
            entry["task"] = f"Task/{referral.task.get('id')}"
        if referral.ordered_at is not None:
            entry["orderedOn"] = referral.ordered_at.date().isoformat()
            entry["ageDays"] = max((now - referral.ordered_at).days, 0)
        if reason := _status_reason(referral.task):
            entry["statusReason"] = reason
        bound.append(entry)
    return bound
