"""FHIRPath variables for which stratification tool runs and which instruments are unavailable.

``%stratificationTool`` is the Questionnaire canonical the clinic's tool-by-site setting (pathway setting
``toolBySite``: the id of a ConceptMap from pain site to tool) gives for the patient's active Conditions
(mapped to sites by ConceptMap ``msk-pain-sites``); ``%painSites`` lists those sites. Both ConceptMaps are
resolved once, when the pathway is loaded, so a setting naming a ConceptMap that does not exist stops
start-up. ``%unavailable`` maps each unavailable instrument's key to ``{reason}`` (licensed wording not
supplied).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from stratcare.content import ContentRepository
from stratcare.instruments.tool_selection import MULTISITE, ConditionCode, pain_sites, resolve_tool
from stratcare.json_types import JsonObject
from stratcare.pathways.active_conditions import active_conditions
from stratcare.pathways.errors import PathwayContentError

TOOL_BY_SITE_SETTING = "toolBySite"
TOOL_VARIABLES = ("stratificationTool", "painSites")
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


@dataclass(frozen=True)
class ToolBySite:
    """The pain-site map and the clinic's site-to-tool setting, read once from content."""

    site_map: JsonObject
    tool_setting: JsonObject

    def variables(self, conditions: Iterable[JsonObject]) -> dict[str, object]:
        """``stratificationTool`` (empty when no active Condition maps to a site) and ``painSites``."""
        codes = _codes(conditions)
        sites = pain_sites(self.site_map, codes)
        tool = resolve_tool(self.site_map, self.tool_setting, codes)
        shown = sorted(sites) + ([MULTISITE] if len(sites) > 1 else [])
        return {"stratificationTool": tool if tool else [], "painSites": shown}


def load_tool_by_site(content: ContentRepository, settings: Mapping[str, object]) -> ToolBySite | None:
    """The pathway's tool-by-site setting resolved; None when the pathway has no such setting."""
    setting = settings.get(TOOL_BY_SITE_SETTING)
    if setting is None:
        return None
    if not isinstance(setting, str):
        raise PathwayContentError(f"pathway setting {TOOL_BY_SITE_SETTING} must be a ConceptMap id (a code)")
    return ToolBySite(_concept_map(content, PAIN_SITE_MAP), _concept_map(content, CONCEPT_MAPS + setting))


def tool_variables(
    content: ContentRepository, conditions: Iterable[JsonObject], settings: Mapping[str, object]
) -> dict[str, object]:
    """``stratificationTool`` and ``painSites``; nothing when the pathway has no toolBySite setting."""
    tool_by_site = load_tool_by_site(content, settings)
    return tool_by_site.variables(conditions) if tool_by_site else {}


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
