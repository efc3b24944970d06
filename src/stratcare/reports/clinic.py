"""The clinic a hook call belongs to, read from its Encounter (FHIR R4): the service provider or the
first location, as configured. A reference is kept as written (``Organization/abc``); without one, the
display text stands in."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any


class ClinicSource(StrEnum):
    SERVICE_PROVIDER = "service-provider"
    LOCATION = "location"


def _name(reference: object) -> str | None:
    if not isinstance(reference, dict):
        return None
    for key in ("reference", "display"):
        value = reference.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def clinic_of(encounter: dict[str, Any] | None, source: ClinicSource) -> str | None:
    """The encounter's clinic per ``source``, or None when the encounter does not say."""
    if encounter is None:
        return None
    if source is ClinicSource.SERVICE_PROVIDER:
        return _name(encounter.get("serviceProvider"))
    locations = encounter.get("location")
    if isinstance(locations, list):
        for entry in locations:
            name = _name(entry.get("location")) if isinstance(entry, dict) else None
            if name:
                return name
    return None


def clinic_reader(source: ClinicSource) -> Callable[[dict[str, Any] | None], str | None]:
    return lambda encounter: clinic_of(encounter, source)
