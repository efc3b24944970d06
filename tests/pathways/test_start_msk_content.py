"""The STarT MSK PlanDefinition over the real JSON content, with variables shaped as the engine gives them."""

from __future__ import annotations

import pytest

from stratcare.content import ContentRepository
from stratcare.pathways import Pathway, load_pathway
from stratcare.pathways.stratification_tool import tool_variables, unavailable_variables

from .contract import ICD10CM, SNOMED, applied, condition, result, variables

PLAN = "http://stratcare.org/fhir/PlanDefinition/start-msk-stratified-care"
START_MSK = "http://stratcare.org/fhir/Questionnaire/start-msk"
START_BACK = "http://stratcare.org/fhir/Questionnaire/start-back"
NECK = condition(SNOMED, "81680005", "neck")
KNEE = condition(ICD10CM, "M25.561", "knee")
LOW_BACK = condition(SNOMED, "279039007", "back")
CAUDA_EQUINA = condition(SNOMED, "192970008", "ces")


@pytest.fixture(scope="module")
def msk(content: ContentRepository) -> Pathway:
    return load_pathway(content, PLAN)


def bound(
    msk: Pathway, content: ContentRepository, *conditions: dict[str, object], **overrides: object
) -> dict[str, object]:
    tools = tool_variables(content, conditions, msk.definition.settings)
    return variables(msk, conditions=list(conditions), **tools) | overrides


@pytest.mark.parametrize(
    ("band", "expected", "definition"),
    [
        ("low-risk", "low-risk", None),
        ("medium-risk", "medium-risk", "physiotherapy-referral"),
        ("high-risk", "high-risk", "psychologically-informed-physiotherapy-referral"),
    ],
)
def test_each_risk_group_gets_its_matched_treatment_option(
    msk: Pathway, content: ContentRepository, band: str, expected: str, definition: str | None
) -> None:
    found = applied(msk, bound(msk, content, NECK, startMsk=result(total=6, band=band)))
    assert found == [expected]
    spec = next(spec for spec in msk.definition.actions if spec.id == expected)
    canonical = spec.referral.canonical if spec.referral else None
    assert canonical == (
        f"http://stratcare.org/fhir/ActivityDefinition/{definition}|1.0.0" if definition else None
    )


def test_red_flag_wins_over_a_high_risk_screen(msk: Pathway, content: ContentRepository) -> None:
    found = applied(msk, bound(msk, content, NECK, CAUDA_EQUINA, startMsk=result(total=10, band="high-risk")))
    assert found == ["red-flag"]


def test_low_back_pain_alone_stays_with_start_back_by_default(
    msk: Pathway, content: ContentRepository
) -> None:
    tools = tool_variables(content, [LOW_BACK], msk.definition.settings)
    assert tools["stratificationTool"] == START_BACK
    assert applied(msk, bound(msk, content, LOW_BACK, startMsk=result(total=10, band="high-risk"))) == []


def test_back_and_knee_pain_is_multisite_and_uses_start_msk(msk: Pathway, content: ContentRepository) -> None:
    tools = tool_variables(content, [LOW_BACK, KNEE], msk.definition.settings)
    assert tools == {"stratificationTool": START_MSK, "painSites": ["knee", "low-back", "multisite"]}
    assert applied(msk, bound(msk, content, LOW_BACK, KNEE)) == ["screening-due"]


def test_msk_for_all_setting_sends_low_back_pain_to_start_msk(
    msk: Pathway, content: ContentRepository
) -> None:
    settings = dict(msk.definition.settings) | {"toolBySite": "stratification-tool-msk-for-all"}
    assert tool_variables(content, [LOW_BACK], settings)["stratificationTool"] == START_MSK


def test_no_pain_site_on_the_record_means_no_card(msk: Pathway, content: ContentRepository) -> None:
    assert applied(msk, bound(msk, content, startMsk=result(total=6, band="medium-risk"))) == []


def test_unavailable_tool_says_so_and_offers_no_screening_order(
    msk: Pathway, content: ContentRepository
) -> None:
    reason = "The Keele STarT MSK Tool is unavailable: licensed wording not supplied"
    unavailable = unavailable_variables(content, {START_MSK: reason})
    assert unavailable == {"startMsk": {"reason": reason}}
    found = applied(msk, bound(msk, content, NECK, unavailable=unavailable))
    assert found == ["tool-unavailable"]
    spec = next(spec for spec in msk.definition.actions if spec.id == "tool-unavailable")
    assert spec.referral is None
    assert "licensed wording" in spec.title
    assert "not available" in (spec.description or "")


def test_unavailable_tool_with_a_refused_response_gets_no_screening_order(
    msk: Pathway, content: ContentRepository
) -> None:
    unavailable = unavailable_variables(content, {START_MSK: "unavailable"})
    refused = {"startMsk": result(reasons=["unavailable"])}
    assert applied(msk, bound(msk, content, NECK, unavailable=unavailable, rejected=refused)) == [
        "tool-unavailable"
    ]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, ["screening-due"]),
        ({"startMsk": result(age_days=40, total=10, band="high-risk")}, ["screen-out-of-date"]),
        ({"startMsk": result(age_days=None, total=10, band="high-risk")}, ["screen-out-of-date"]),
        ({"rejected": {"startMsk": result(reasons=["item msk-3 unanswered"])}}, ["screen-incomplete"]),
        ({"ageYears": 17, "startMsk": result(total=10, band="high-risk")}, []),
        ({"ageYears": [], "startMsk": result(total=10, band="high-risk")}, ["age-unknown"]),
    ],
)
def test_episode_window_and_minimum_age(
    msk: Pathway, content: ContentRepository, overrides: dict[str, object], expected: list[str]
) -> None:
    assert applied(msk, bound(msk, content, NECK, **overrides)) == expected


def test_screening_actions_order_the_start_msk_tool(msk: Pathway) -> None:
    ordering = {spec.id: spec.referral.canonical for spec in msk.definition.actions if spec.referral}
    screening = "http://stratcare.org/fhir/ActivityDefinition/start-msk-screening-request|1.0.0"
    assert {k for k, v in ordering.items() if v == screening} == {
        "screening-due",
        "screen-out-of-date",
        "screen-incomplete",
    }
    assert "tool-unavailable" not in ordering
