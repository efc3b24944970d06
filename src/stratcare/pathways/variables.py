"""Bind step: turn PathwayInputs into the variables FHIRPath conditions see.

Variables (also documented in the PlanDefinition's description, for content authors):

``%startBack``
    The newest STarT Back response when scored: ``total`` (0-9), ``psychosocial`` (0-5), ``riskGroup``
    (``'low'|'medium'|'high'``), ``response`` (``'QuestionnaireResponse/id'``), ``authored`` (dateTime
    string) and ``ageDays`` (whole days from authored to now). Empty otherwise.
``%startBackRejected``
    The newest STarT Back response when it could not be scored: ``reasons``, ``response``, ``authored``.
``%nih``
    The newest NIH chronic low back pain screen when scored: ``classification`` (``'acute'|'chronic'``),
    ``response``, ``authored``.
``%nihRejected``
    The newest NIH screen when refused: ``reasons``, ``response``, ``authored``.
``%patient``, ``%encounter``
    The Patient and Encounter resources, or empty.
``%conditions``
    The active Conditions (see ``active_conditions``).
``%serviceRequests``
    The patient's ServiceRequests as given.

Resources are deep-copied because fhirpathpy may annotate what it walks.
"""

from __future__ import annotations

import copy
from datetime import datetime

from stratcare.instruments.results import (
    NihScreenResult,
    ResponseRejected,
    ResponseSource,
    StartBackScore,
)
from stratcare.pathways.active_conditions import active_conditions
from stratcare.pathways.inputs import JsonObject, PathwayInputs


def _source_fields(source: ResponseSource) -> JsonObject:
    fields: JsonObject = {"response": source.reference}
    if source.authored is not None:
        fields["authored"] = source.authored.isoformat()
    return fields


def _start_back(score: StartBackScore, now: datetime) -> JsonObject:
    fields = _source_fields(score.source) | {
        "total": score.total,
        "psychosocial": score.psychosocial,
        "riskGroup": score.risk_group.value,
    }
    if score.source.authored is not None:
        fields["ageDays"] = (now - score.source.authored).days
    return fields


def _rejected(rejected: ResponseRejected) -> JsonObject:
    return _source_fields(rejected.source) | {"reasons": list(rejected.reasons)}


def _nih(result: NihScreenResult) -> JsonObject:
    return _source_fields(result.source) | {"classification": result.chronicity.value}


def bind_variables(inputs: PathwayInputs) -> dict[str, object]:
    """The FHIRPath variable map for one evaluation; absent values are empty collections."""
    start_back, nih = inputs.start_back, inputs.nih
    return {
        "startBack": _start_back(start_back, inputs.now) if isinstance(start_back, StartBackScore) else [],
        "startBackRejected": _rejected(start_back) if isinstance(start_back, ResponseRejected) else [],
        "nih": _nih(nih) if isinstance(nih, NihScreenResult) else [],
        "nihRejected": _rejected(nih) if isinstance(nih, ResponseRejected) else [],
        "patient": copy.deepcopy(inputs.patient) if inputs.patient is not None else [],
        "encounter": copy.deepcopy(inputs.encounter) if inputs.encounter is not None else [],
        "conditions": copy.deepcopy(active_conditions(inputs.conditions)),
        "serviceRequests": copy.deepcopy(list(inputs.service_requests)),
    }
