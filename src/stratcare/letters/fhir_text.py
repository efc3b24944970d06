"""Plain words read from FHIR JSON for a letter: names, concepts, dates and values, never codes alone."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime

from stratcare.fhir_datetime import parse_fhir_datetime
from stratcare.json_types import JsonObject


def concept_text(concept: object) -> str | None:
    """A CodeableConcept's ``text``, else the first coding's display (codes are not words for a patient)."""
    if not isinstance(concept, dict):
        return None
    text = concept.get("text")
    if isinstance(text, str) and text.strip():
        return text.strip()
    for coding in concept.get("coding", []):
        display = coding.get("display") if isinstance(coding, dict) else None
        if isinstance(display, str) and display.strip():
            return display.strip()
    return None


def codings(concepts: Iterable[object]) -> Iterator[tuple[str, str]]:
    """Every ``(system, code)`` of the given CodeableConcepts."""
    for concept in concepts:
        if not isinstance(concept, dict):
            continue
        for coding in concept.get("coding", []):
            if isinstance(coding, dict) and isinstance(coding.get("system"), str) and coding.get("code"):
                yield coding["system"], str(coding["code"])


def as_list(value: object) -> list[object]:
    """An element that may repeat (a list) or not (one value), as a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def person_name(resource: JsonObject | None) -> str | None:
    """The official (else first) HumanName as "Given Family"."""
    if resource is None:
        return None
    names = [name for name in resource.get("name", []) if isinstance(name, dict)]
    chosen = next((name for name in names if name.get("use") == "official"), names[0] if names else None)
    if chosen is None:
        return None
    text = chosen.get("text")
    if isinstance(text, str) and text.strip():
        return text.strip()
    parts = [*chosen.get("given", []), chosen.get("family")]
    joined = " ".join(part for part in parts if isinstance(part, str) and part)
    return joined or None


def reference_display(reference: object) -> str | None:
    if isinstance(reference, dict) and isinstance(reference.get("display"), str):
        return str(reference["display"]).strip() or None
    return None


def fhir_date(value: object) -> date | None:
    """The calendar date of a FHIR date or dateTime as written (its own offset, never converted)."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def fhir_instant(value: object) -> datetime | None:
    """Any FHIR date or dateTime as a UTC instant, or None."""
    return parse_fhir_datetime(value)


def long_date(day: date) -> str:
    """``Tuesday 8 December 2026``: words, not digits, so no reader mistakes day for month."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def clock_time(value: object) -> str | None:
    """The time of day of a dateTime as written (``10:30``), or None for a date alone."""
    if not isinstance(value, str) or len(value) < 16 or value[10] != "T":
        return None
    return value[11:16]
