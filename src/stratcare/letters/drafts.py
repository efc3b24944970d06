"""The draft FHIR resources a letter suggestion creates; none is final until the clinician reviews it.

Modelling (FHIR R4): the pre-consultation letter is a ``Communication`` in ``preparation`` to the patient
with the HTML letter as its attachment. The post-consultation letter is a ``Composition`` (``preliminary``;
the patient its subject, the clinician its author, one section per element of the letter) with a
``DocumentReference`` (``docStatus`` ``preliminary``) holding its HTML and PDF renderings. R4's Composition
has no recipient element, and ``attester`` records who vouches for a document (the clinician, once they
sign it), so the copy to the GP is modelled where FHIR models sending: a draft ``Communication`` to the
patient and the GP whose payload is the DocumentReference. Drafts point at each other by identifier
(logical references), because the EHR assigns the ids when it creates them.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from datetime import datetime
from uuid import UUID

from stratcare.json_types import JsonObject

HTML_TYPE = "text/html; charset=utf-8"
PDF_TYPE = "application/pdf"
URN = "urn:ietf:rfc:3986"


def identifier(uuid: UUID) -> JsonObject:
    return {"system": URN, "value": f"urn:uuid:{uuid}"}


def attachment(content_type: str, data: bytes, title: str, now: datetime) -> JsonObject:
    return {
        "contentType": content_type,
        "language": "en",
        "data": base64.b64encode(data).decode("ascii"),
        "title": title,
        "creation": now.isoformat(),
    }


def letter_communication(
    *,
    uuid: UUID,
    patient_id: str,
    recipients: Sequence[JsonObject],
    title: str,
    payload: JsonObject,
    now: datetime,
    about: Sequence[JsonObject] = (),
    encounter_id: str | None = None,
) -> JsonObject:
    communication: JsonObject = {
        "resourceType": "Communication",
        "identifier": [identifier(uuid)],
        "status": "preparation",
        "subject": {"reference": f"Patient/{patient_id}"},
        "topic": {"text": title},
        "recipient": list(recipients),
        "payload": [payload],
        "note": [{"text": "Draft letter: review and edit before sending.", "time": now.isoformat()}],
    }
    if about:
        communication["about"] = list(about)
    if encounter_id:
        communication["encounter"] = {"reference": f"Encounter/{encounter_id}"}
    return communication


def section(title: str, narrative_html: str) -> JsonObject:
    return {
        "title": title,
        "text": {
            "status": "generated",
            "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{narrative_html}</div>',
        },
    }


def letter_composition(
    *,
    uuid: UUID,
    patient_id: str,
    encounter_id: str,
    author: str,
    document_type: JsonObject,
    title: str,
    sections: Mapping[str, str],
    now: datetime,
) -> JsonObject:
    """``sections`` maps each section title to its narrative (XHTML), in letter order."""
    return {
        "resourceType": "Composition",
        "identifier": identifier(uuid),
        "status": "preliminary",
        "type": document_type,
        "subject": {"reference": f"Patient/{patient_id}"},
        "encounter": {"reference": f"Encounter/{encounter_id}"},
        "date": now.isoformat(),
        "author": [{"reference": author}],
        "title": title,
        "section": [section(name, html) for name, html in sections.items()],
    }


def letter_document_reference(
    *,
    uuid: UUID,
    composition: UUID,
    patient_id: str,
    encounter_id: str,
    author: str,
    document_type: JsonObject,
    title: str,
    html: str,
    pdf: bytes,
    now: datetime,
) -> JsonObject:
    return {
        "resourceType": "DocumentReference",
        "masterIdentifier": identifier(uuid),
        "status": "current",
        "docStatus": "preliminary",
        "type": document_type,
        "subject": {"reference": f"Patient/{patient_id}"},
        "date": now.isoformat(),
        "author": [{"reference": author}],
        "description": title,
        "content": [
            {"attachment": attachment(HTML_TYPE, html.encode("utf-8"), title, now)},
            {"attachment": attachment(PDF_TYPE, pdf, title, now)},
        ],
        "context": {
            "encounter": [{"reference": f"Encounter/{encounter_id}"}],
            "related": [{"type": "Composition", "identifier": identifier(composition)}],
        },
    }
