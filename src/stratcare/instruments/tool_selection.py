"""Which stratification tool runs for a patient, from their coded conditions and the clinic's setting.

Two ConceptMaps, both content: one from condition codes (SNOMED CT, ICD-10, ICD-10-CM) to a pain site, and
the clinic's setting from pain site to the Questionnaire canonical of the tool (``urn:ietf:rfc:3986``).
Conditions at two or more different sites count as ``multisite`` (Dunn et al., Eur J Pain 2021: back,
neck, shoulder, knee and multisite pain).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from stratcare.json_types import JsonObject

MULTISITE = "multisite"


@dataclass(frozen=True)
class ConditionCode:
    system: str
    code: str


def _targets(concept_map: JsonObject, system: str, code: str) -> Iterator[str]:
    for group in concept_map.get("group", []):
        if group.get("source") != system:
            continue
        for element in group.get("element", []):
            if element.get("code") == code:
                yield from (str(target["code"]) for target in element.get("target", []) if "code" in target)


def pain_sites(site_map: JsonObject, codes: Iterable[ConditionCode]) -> set[str]:
    return {site for code in codes for site in _targets(site_map, code.system, code.code)}


def resolve_tool(
    site_map: JsonObject, tool_setting: JsonObject, codes: Iterable[ConditionCode]
) -> str | None:
    """The Questionnaire canonical of the tool for these condition codes; ``None`` when no site matches."""
    sites = pain_sites(site_map, codes)
    if not sites:
        return None
    site = sites.pop() if len(sites) == 1 else MULTISITE
    site_system = str(tool_setting.get("sourceUri") or "")
    return next(_targets(tool_setting, site_system, site), None)
