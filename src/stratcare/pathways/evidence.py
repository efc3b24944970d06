"""Card detail lines naming the record resources that made an action apply (its evidence).

Each resource is named by what a clinician recognises: its text or coding display, its codes with the code
system's name, and its date (``recordedDate``, else ``onsetDateTime``; ``authoredOn`` for a request or
Task), never its server id. Text from the record is Markdown-escaped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from stratcare.json_types import JsonObject

SYSTEM_NAMES = {
    "http://snomed.info/sct": "SNOMED CT",
    "http://hl7.org/fhir/sid/icd-10": "ICD-10",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM",
}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|])")


def _escape(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _codings(resource: JsonObject) -> list[JsonObject]:
    concept = resource.get("code")
    codings = concept.get("coding", []) if isinstance(concept, dict) else []
    return [coding for coding in codings if isinstance(coding, dict) and isinstance(coding.get("code"), str)]


def _name(resource: JsonObject) -> str:
    concept = resource.get("code")
    text = concept.get("text") if isinstance(concept, dict) else None
    displays = [c["display"] for c in _codings(resource) if isinstance(c.get("display"), str)]
    name = text if isinstance(text, str) and text.strip() else (displays[0] if displays else None)
    return _escape(name) if name else f"{resource.get('resourceType')} with no name"


def _codes(resource: JsonObject) -> str:
    codes = [
        f"{SYSTEM_NAMES.get(str(coding.get('system')), coding.get('system') or 'no system')} {coding['code']}"
        for coding in _codings(resource)
    ]
    return _escape(", ".join(codes)) if codes else "not coded"


def _dated(resource: JsonObject) -> str:
    dates = (("recordedDate", "recorded"), ("onsetDateTime", "onset"), ("authoredOn", "ordered"))
    for element, label in dates:
        value = resource.get(element)
        if isinstance(value, str) and value:
            return f"{label} {_escape(value[:10])}"
    return "date not recorded"


def evidence_lines(resources: Sequence[JsonObject]) -> str:
    """Markdown naming each resource, or an empty string when there are none."""
    if not resources:
        return ""
    lines = [f"- {_name(r)} ({_codes(r)}), {_dated(r)}." for r in resources]
    return "\n".join(["**Found on the record**", "", *lines])
