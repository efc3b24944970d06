"""FHIRPath variables for which stratification tool runs and which instruments are unavailable.

``%stratificationTool`` is the Questionnaire canonical the clinic's tool-by-site setting (pathway setting
``toolBySite``: the id of a ConceptMap from pain site to tool) gives for the patient's active Conditions
(mapped to sites by ConceptMap ``msk-pain-sites``); ``%painSites`` lists those sites. ``%unavailable``
maps each unavailable instrument's key to ``{reason}`` (licensed wording not supplied).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from stratcare.content import ContentRepository
from stratcare.instruments.tool_selection import MULTISITE, ConditionCode, pain_sites, resolve_tool
from stratcare.pathways.active_conditions import active_conditions
from stratcare.pathways.codes import JsonObject
from stratcare.pathways.errors import PathwayContentError

TOOL_BY_SITE_SETTING = "toolBySite"
PAIN_SITE_MAP = "http://stratcare.org/fhir/ConceptMap/msk-pain-sites"
CONCEPT_MAPS = "http://stratcare.org/fhir/ConceptMap/"
INSTRUMENT_KEY_EXTENSION = "http://stratcare.org/fhir/StructureDefinition/instrument-key"


def _codes(conditions: Iterable[JsonObject]) -> list[ConditionCode]:
    codes: list[ConditionCode] = []
    for condition in active_conditions(conditions):
        concept = condition.get("code")
        for coding in concept.get("coding", []) if isinstance(concept, dict) else []:
            if (
                isinstance(coding, dict)
                and isinstance(coding.get("system"), str)
                and isinstance(coding.get("code"), str)
            ):
                codes.append(ConditionCode(coding["system"], coding["code"]))
    return codes


def _concept_map(content: ContentRepository, url: str) -> JsonObject:
    found = content.find("ConceptMap", url)
    if found is None:
        raise PathwayContentError(f"no ConceptMap {url!r} (pathway setting {TOOL_BY_SITE_SETTING})")
    return found


def tool_variables(
    content: ContentRepository, conditions: Iterable[JsonObject], settings: Mapping[str, object]
) -> dict[str, object]:
    """``stratificationTool`` and ``painSites``; nothing when the pathway has no toolBySite setting."""
    setting = settings.get(TOOL_BY_SITE_SETTING)
    if not isinstance(setting, str):
        return {}
    site_map = _concept_map(content, PAIN_SITE_MAP)
    tool_setting = _concept_map(content, CONCEPT_MAPS + setting)
    codes = _codes(conditions)
    sites = pain_sites(site_map, codes)
    tool = resolve_tool(site_map, tool_setting, codes)
    shown = sorted(sites) + ([MULTISITE] if len(sites) > 1 else [])
    return {"stratificationTool": tool if tool else [], "painSites": shown}


def unavailable_variables(
    content: ContentRepository, unavailable: Mapping[str, str]
) -> dict[str, JsonObject]:
    """``%unavailable``: ``{instrumentKey: {"reason": ...}}`` from Questionnaire url -> reason."""
    bound: dict[str, JsonObject] = {}
    for url, reason in unavailable.items():
        questionnaire = content.find("Questionnaire", url) or {}
        key = next(
            (
                e.get("valueCode")
                for e in questionnaire.get("extension", [])
                if isinstance(e, dict) and e.get("url") == INSTRUMENT_KEY_EXTENSION
            ),
            None,
        )
        if isinstance(key, str):
            bound[key] = {"reason": reason}
    return bound
