"""The FHIR resources an assessment writes back to the EHR, as one idempotent transaction Bundle.

For each scored response: an Observation per score (category ``survey``, ``derivedFrom`` the response,
``valueInteger`` for scores: US Core's screening-assessment pattern) and, for STarT Back, a RiskAssessment
whose ``prediction.qualitativeRisk`` uses HL7's risk-probability codes (STarT "medium" is ``moderate``).
Every resource carries an identifier derived from the response id and version and the instrument version,
and is created with ``ifNoneExist`` on it, so the same response never yields two copies, however often it is
scored or the Bundle is retried. Entry fullUrls are name-based UUIDs of those identifiers for the same reason.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import quote

from stratcare.instruments.results import NihScreenResult, RiskGroup, StartBackScore
from stratcare.json_types import JsonObject

IDENTIFIER_SYSTEM = "http://stratcare.org/fhir/identifier/assessment-result"
START_BACK_SYSTEM = "http://stratcare.org/fhir/CodeSystem/start-back"
NIH_SYSTEM = "http://stratcare.org/fhir/CodeSystem/nih-clbp"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
RISK_PROBABILITY = "http://terminology.hl7.org/CodeSystem/risk-probability"
_NAMESPACE = uuid.UUID("6f1c2a8e-3b7d-5e4f-9a10-2c3d4e5f6a7b")

QUALITATIVE_RISK = {
    RiskGroup.LOW: ("low", "Low likelihood"),
    RiskGroup.MEDIUM: ("moderate", "Moderate likelihood"),
    RiskGroup.HIGH: ("high", "High likelihood"),
}


@dataclass(frozen=True)
class Encounter:
    patient_id: str
    encounter_id: str | None


def result_identifier(response_id: str, version_id: str | None, instrument_version: str, part: str) -> str:
    """``response:version:instrument-version:part``, each percent-encoded beyond RFC 3986's unreserved set.

    No ``|``, ``,``, ``$`` or ``\\``: token search splits on them (and servers differ on their escapes), so a
    value holding one could never be found, and ``ifNoneExist`` would create a copy on every retry.
    """
    parts = (response_id, version_id or "-", instrument_version, part)
    return ":".join(quote(value, safe="-._~") for value in parts)


def _entry(resource_type: str, resource: JsonObject, identifier: str) -> JsonObject:
    full_url = f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{resource_type}/{identifier}')}"
    resource["identifier"] = [{"system": IDENTIFIER_SYSTEM, "value": identifier}]
    return {
        "fullUrl": full_url,
        "resource": resource,
        "request": {
            "method": "POST",
            "url": resource_type,
            "ifNoneExist": f"identifier={IDENTIFIER_SYSTEM}|{quote(identifier, safe=':-._~')}",
        },
    }


def _context(resource: JsonObject, where: Encounter) -> JsonObject:
    resource["subject"] = {"reference": f"Patient/{where.patient_id}"}
    if where.encounter_id:
        resource["encounter"] = {"reference": f"Encounter/{where.encounter_id}"}
    return resource


def _observation(
    where: Encounter, response_reference: str, effective: str | None, code: JsonObject, value: JsonObject
) -> JsonObject:
    observation: JsonObject = {
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}],
        "code": code,
    }
    _context(observation, where)
    if effective:
        observation["effectiveDateTime"] = effective
    observation.update(value)
    observation["derivedFrom"] = [{"reference": response_reference}]
    return observation


def _code(system: str, code: str, display: str) -> JsonObject:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def start_back_entries(score: StartBackScore, where: Encounter) -> list[JsonObject]:
    source = score.source
    effective = source.authored.isoformat() if source.authored else None

    def ident(part: str) -> str:
        return result_identifier(source.response_id, source.version_id, score.instrument_version, part)

    total = _entry(
        "Observation",
        _observation(
            where,
            source.reference,
            effective,
            _code(START_BACK_SYSTEM, "total-score", "STarT Back total score"),
            {"valueInteger": score.total},
        ),
        ident("total-score"),
    )
    psychosocial = _entry(
        "Observation",
        _observation(
            where,
            source.reference,
            effective,
            _code(START_BACK_SYSTEM, "psychosocial-score", "STarT Back psychosocial subscale score"),
            {"valueInteger": score.psychosocial},
        ),
        ident("psychosocial-score"),
    )
    risk_code, risk_display = QUALITATIVE_RISK[score.risk_group]
    assessment: JsonObject = {
        "resourceType": "RiskAssessment",
        "status": "final",
        "method": {
            "coding": [
                {
                    "system": START_BACK_SYSTEM,
                    "code": "start-back-screening-tool",
                    "display": "Keele STarT Back Screening Tool",
                    "version": score.instrument_version,
                }
            ],
            "text": f"Keele STarT Back Screening Tool {score.instrument_version}",
        },
        "code": _code(START_BACK_SYSTEM, "risk-group", "STarT Back risk group"),
    }
    _context(assessment, where)
    if effective:
        assessment["occurrenceDateTime"] = effective
    assessment["basis"] = [
        {"reference": source.reference},
        {"reference": total["fullUrl"]},
        {"reference": psychosocial["fullUrl"]},
    ]
    assessment["prediction"] = [
        {
            "outcome": {"text": "Persistent disabling back pain"},
            "qualitativeRisk": {
                "coding": [{"system": RISK_PROBABILITY, "code": risk_code, "display": risk_display}],
                "text": f"{score.risk_group.value} risk (STarT Back)",
            },
        }
    ]
    return [total, psychosocial, _entry("RiskAssessment", assessment, ident("risk-assessment"))]


def nih_entries(result: NihScreenResult, where: Encounter) -> list[JsonObject]:
    source = result.source
    effective = source.authored.isoformat() if source.authored else None
    chronic = result.chronicity.value == "chronic"
    display = "Chronic low back pain" if chronic else "Acute or subacute low back pain"
    observation = _observation(
        where,
        source.reference,
        effective,
        _code(NIH_SYSTEM, "chronicity", "NIH chronic low back pain classification"),
        {"valueCodeableConcept": _code(NIH_SYSTEM, result.chronicity.value, display)},
    )
    identifier = result_identifier(
        source.response_id, source.version_id, result.instrument_version, "chronicity"
    )
    return [_entry("Observation", observation, identifier)]


def transaction(entries: list[JsonObject]) -> JsonObject:
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}
