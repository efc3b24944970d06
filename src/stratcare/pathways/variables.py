"""Bind step: turn PathwayInputs into the variables FHIRPath conditions see.

Variables (also documented in the PlanDefinition's description, for content authors):

``%<key>`` (one per instrument the service scores: ``%startBack``, ``%nih``, ``%phq9``, ``%gad7``)
    The newest response to that instrument when it was scored: each of its named scores (``total``,
    ``psychosocial``; also under ``scores``), ``band`` (the band code), ``bandDisplay``, the band under the
    instrument's declared band variable (``riskGroup`` for STarT Back: ``'low'|'medium'|'high'``;
    ``classification`` for the NIH screen: ``'acute'|'chronic'``; ``severity`` for PHQ-9/GAD-7), ``flags``
    (names of the raised flags), ``instrument``, ``version``, ``answers`` (answer code by linkId),
    ``response`` (``'QuestionnaireResponse/id'``), ``authored`` (dateTime string, when the response gives a
    full one), and its date (see below). Empty otherwise. The key is the Questionnaire's ``instrument-key``.
``%<key>Rejected``
    The newest response to that instrument when it could not be scored: ``reasons``, ``response``,
    ``authored`` and its date. Empty otherwise.
``%results``, ``%rejected``
    The same values as one map each, by instrument key (``%results.phq9.flags``); an instrument without a
    scored (refused) response has no entry.
``%unavailable``
    By instrument key, ``{reason}`` for each instrument the service scores that is not offered here (a
    licensed tool whose wording is not supplied); an available instrument has no entry.
``%ageYears``
    The patient's age in whole years at ``now`` from ``Patient.birthDate``, empty when there is no usable
    birthDate. A partial birthDate counts from the latest day it allows (``2010`` is 31 December 2010), so
    the age is never overstated and a minimum-age condition never lets a younger patient through.
``%settings``
    The PlanDefinition's pathway settings by name (windows, minimum age, referral scope).
``%patient``, ``%encounter``
    The Patient and Encounter resources, or empty.
``%conditions``
    The active Conditions (see ``active_conditions``).
``%serviceRequests``
    The patient's ServiceRequests as given.
``%referrals``
    stratcare's own referrals among the ServiceRequests and Tasks, newest first, each with its current
    status (``referral_status``: ``definition``, ``title``, ``status``, ``open``, ``resource``, ``request``,
    ``task``, ``orderedOn``, ``ageDays``, ``statusReason``).
``%stratificationTool``, ``%painSites``
    Only for a pathway with the ``toolBySite`` setting (``stratification_tool``; bound by ``Pathway``).

The date of a screen: ``screenedOn`` (the date as recorded, at its own precision: ``2026``, ``2026-11`` or
``2026-11-20``), ``datedBy`` (``'authored'``, or ``'lastUpdated'`` when the response has no usable authored
and the server's meta.lastUpdated stands in) and ``ageDays`` (whole days from the start of that date to
now, so a partial date makes a screen look older, never newer). A response with neither date has no
``ageDays``: a window condition such as ``%startBack.ageDays <= %settings.screenWindowDays`` is then false.
A screen dated more than a day after now (a data error, not clock drift) has no ``ageDays`` either.

Resources are deep-copied because fhirpathpy may annotate what it walks.
"""

from __future__ import annotations

import copy
import re
from calendar import monthrange
from collections.abc import Mapping
from datetime import date, datetime

from stratcare.instruments.instrument_result import InstrumentResult
from stratcare.instruments.results import ResponseRejected, ResponseSource
from stratcare.json_types import JsonObject
from stratcare.pathways.active_conditions import active_conditions
from stratcare.pathways.inputs import PathwayInputs
from stratcare.pathways.referral_status import referral_variables, stratcare_referrals
from stratcare.pathways.screen_dates import recorded_date, screen_age_days
from stratcare.pathways.workflow import bind_workflow

_BIRTH_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def _source_fields(source: ResponseSource, now: datetime) -> JsonObject:
    fields: JsonObject = {"response": source.reference}
    if source.authored is not None:
        fields["authored"] = source.authored.isoformat()
    if source.dated is not None:
        fields["screenedOn"] = recorded_date(source.dated)
        fields["datedBy"] = source.dated.basis
    age = screen_age_days(source.dated, now)
    if age is not None:
        fields["ageDays"] = age
    return fields


def _result(result: InstrumentResult, now: datetime) -> JsonObject:
    fields: JsonObject = {
        "instrument": result.instrument,
        "version": result.version,
        "scores": dict(result.scores),
        **dict(result.scores),
        "flags": list(result.flags),
        "answers": dict(result.answers),
    }
    band = result.band
    if band is not None:
        fields |= {"band": band.band.code, "bandDisplay": band.band.display}
        if result.definition.band_variable is not None:
            fields[result.definition.band_variable] = band.alias or band.band.code
    return fields | _source_fields(result.source, now)


def _rejected(rejected: ResponseRejected, now: datetime) -> JsonObject:
    return _source_fields(rejected.source, now) | {"reasons": list(rejected.reasons)}


def instrument_variables(inputs: PathwayInputs) -> dict[str, object]:
    """``%results``, ``%rejected`` and each instrument's ``%<key>`` / ``%<key>Rejected``."""
    scored: dict[str, JsonObject] = {}
    refused: dict[str, JsonObject] = {}
    for key, outcome in inputs.results.items():
        if isinstance(outcome, InstrumentResult):
            scored[key] = _result(outcome, inputs.now)
        else:
            refused[key] = _rejected(outcome, inputs.now)
    variables: dict[str, object] = {}
    for key in inputs.instrument_keys:
        variables[key] = copy.deepcopy(scored[key]) if key in scored else []
        variables[f"{key}Rejected"] = copy.deepcopy(refused[key]) if key in refused else []
    unavailable = {key: {"reason": reason} for key, reason in inputs.unavailable.items()}
    return variables | {"results": scored, "rejected": refused, "unavailable": unavailable}


def referrals(inputs: PathwayInputs, screening_orders: frozenset[str] = frozenset()) -> list[JsonObject]:
    """``%referrals``: stratcare's referrals for this patient with their status (see ``referral_status``)."""
    found = stratcare_referrals(inputs.service_requests, inputs.tasks, inputs.patient_id, screening_orders)
    return referral_variables(found, inputs.now)


def _latest_birth_day(birth_date: object) -> date | None:
    match = _BIRTH_DATE.match(birth_date) if isinstance(birth_date, str) else None
    if match is None:
        return None
    year, month, day = (int(part) if part else None for part in match.groups())
    try:
        if month is None:
            return date(year or 1, 12, 31)
        return date(year or 1, month, day or monthrange(year or 1, month)[1])
    except ValueError:
        return None


def age_years(patient: JsonObject | None, now: datetime) -> int | None:
    """Whole years from the latest day the birthDate allows to ``now``; None without a usable birthDate."""
    born = _latest_birth_day(patient.get("birthDate")) if patient else None
    if born is None:
        return None
    today = now.date()
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return years if years >= 0 else None


def bind_variables(
    inputs: PathwayInputs,
    settings: Mapping[str, object],
    screening_orders: frozenset[str] = frozenset(),
) -> dict[str, object]:
    """The FHIRPath variable map for one evaluation; absent values are empty collections.
    ``screening_orders``: the ActivityDefinitions whose requests are no referrals (``referral_status``)."""
    age = age_years(inputs.patient, inputs.now)
    return (
        instrument_variables(inputs)
        | {
            "ageYears": age if age is not None else [],
            "settings": dict(settings),
            "patient": copy.deepcopy(inputs.patient) if inputs.patient is not None else [],
            "encounter": copy.deepcopy(inputs.encounter) if inputs.encounter is not None else [],
            "conditions": copy.deepcopy(active_conditions(inputs.conditions)),
            "serviceRequests": copy.deepcopy(list(inputs.service_requests)),
            "referrals": referrals(inputs, screening_orders),
        }
        | bind_workflow(inputs.workflow, inputs.encounter, inputs.conditions, inputs.now, settings)
    )
