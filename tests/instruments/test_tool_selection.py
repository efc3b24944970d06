"""Which tool runs for which pain site is content: two ConceptMaps and a pure resolver."""

from __future__ import annotations

import pytest

from stratcare.content import ContentRepository
from stratcare.instruments.tool_selection import ConditionCode, resolve_tool

SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
START_BACK = "http://stratcare.org/fhir/Questionnaire/start-back"
START_MSK = "http://stratcare.org/fhir/Questionnaire/start-msk"
LOW_BACK = ConditionCode(SNOMED, "279039007")
CHRONIC_LOW_BACK = ConditionCode(SNOMED, "278860009")
KNEE = ConditionCode(ICD10CM, "M25.561")
NECK = ConditionCode(SNOMED, "81680005")


def _map(content: ContentRepository, name: str) -> dict[str, object]:
    return content.resolve("ConceptMap", f"http://stratcare.org/fhir/ConceptMap/{name}")


@pytest.mark.parametrize(
    ("codes", "tool"),
    [
        ([LOW_BACK], START_BACK),
        ([LOW_BACK, CHRONIC_LOW_BACK], START_BACK),  # two codes, one site
        ([NECK], START_MSK),
        ([KNEE], START_MSK),
        ([LOW_BACK, KNEE], START_MSK),  # two sites: multisite pain
        ([ConditionCode(SNOMED, "22298006")], None),  # not a musculoskeletal pain site
        ([ConditionCode(ICD10CM, "M54.5")], START_BACK),
        ([ConditionCode(SNOMED, "M54.5")], None),  # right code, wrong system
    ],
)
def test_default_setting(content: ContentRepository, codes: list[ConditionCode], tool: str | None) -> None:
    assert (
        resolve_tool(_map(content, "msk-pain-sites"), _map(content, "stratification-tool-by-site"), codes)
        == tool
    )


@pytest.mark.parametrize("codes", [[LOW_BACK], [NECK], [LOW_BACK, KNEE]])
def test_msk_for_all_setting(content: ContentRepository, codes: list[ConditionCode]) -> None:
    setting = _map(content, "stratification-tool-msk-for-all")
    assert resolve_tool(_map(content, "msk-pain-sites"), setting, codes) == START_MSK
