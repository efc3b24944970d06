"""The FHIR resources an assessment writes back to the EHR, as one idempotent transaction Bundle.

For each scored response: the Observations and RiskAssessment its instrument declares (content, built by
``instruments.observations.result_resources``: category ``survey``, ``derivedFrom`` the response, HL7
risk-probability codes for a band's ``qualitativeRisk``).
Every resource carries an identifier derived from the response id and version and the instrument version,
and is created with ``ifNoneExist`` on it, so the same response never yields two copies, however often it is
scored or the Bundle is retried. Entry fullUrls are name-based UUIDs of those identifiers for the same reason.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import quote

from stratcare.instruments.instrument_result import InstrumentResult
from stratcare.instruments.observations import result_resources
from stratcare.json_types import JsonObject

IDENTIFIER_SYSTEM = "http://stratcare.org/fhir/identifier/assessment-result"
_NAMESPACE = uuid.UUID("6f1c2a8e-3b7d-5e4f-9a10-2c3d4e5f6a7b")


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
    resource["identifier"] = [{"system": IDENTIFIER_SYSTEM, "value": identifier}]
    return {
        "fullUrl": full_url(resource_type, identifier),
        "resource": resource,
        "request": {
            "method": "POST",
            "url": resource_type,
            "ifNoneExist": f"identifier={IDENTIFIER_SYSTEM}|{quote(identifier, safe=':-._~')}",
        },
    }


def full_url(resource_type: str, identifier: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{resource_type}/{identifier}')}"


def result_entries(result: InstrumentResult, where: Encounter) -> list[JsonObject]:
    """The transaction entries of one scored response: the Observations and RiskAssessment its
    instrument declares (``result_resources``), each identified by ``result_identifier(..., part)``."""
    source = result.source

    def ident(part: str) -> str:
        return result_identifier(source.response_id, source.version_id, result.version, part)

    resources = result_resources(
        result, where.patient_id, where.encounter_id, lambda part: full_url("Observation", ident(part))
    )
    return [_entry(item.resource["resourceType"], item.resource, ident(item.part)) for item in resources]


def transaction(entries: list[JsonObject]) -> JsonObject:
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}
