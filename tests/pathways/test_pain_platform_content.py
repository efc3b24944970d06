"""The Pain Platform stepped-care PlanDefinition and its content over the real JSON."""

from __future__ import annotations

import json

import pytest

from stratcare.content import ContentRepository, default_content_root
from stratcare.pathways import Pathway, load_pathway
from stratcare.pathways.worklist_referral import read_worklist

from .contract import ICD10, ICD10CM, SNOMED, applied, condition, result, variables

PLAN = "http://stratcare.org/fhir/PlanDefinition/pain-platform-stepped-care"
CWP_VALUE_SET = "http://stratcare.org/fhir/ValueSet/chronic-widespread-pain"
STEP_2 = "http://stratcare.org/fhir/ActivityDefinition/pain-platform-low-intensity-cbt|1.0.0"
STEP_3 = "http://stratcare.org/fhir/ActivityDefinition/pain-platform-high-intensity-cbt|1.0.0"
FIBROMYALGIA = condition(SNOMED, "203082005", "fm")


@pytest.fixture(scope="module")
def platform(content: ContentRepository) -> Pathway:
    return load_pathway(content, PLAN)


def scores(phq9: int | None, gad7: int | None, age_days: int = 3) -> dict[str, object]:
    return {
        "phq9": result(age_days, "QuestionnaireResponse/phq", total=phq9) if phq9 is not None else [],
        "gad7": result(age_days, "QuestionnaireResponse/gad", total=gad7) if gad7 is not None else [],
    }


@pytest.mark.parametrize(
    ("system", "code"),
    [(SNOMED, "203082005"), (ICD10, "M79.7"), (ICD10CM, "M79.7")],
)
def test_fibromyalgia_codes_identify_the_patient(platform: Pathway, system: str, code: str) -> None:
    bound = variables(platform, conditions=[condition(system, code)], **scores(4, 3))
    assert applied(platform, bound) == ["step-2"]


def test_generalised_aches_alone_do_not_identify(platform: Pathway) -> None:
    bound = variables(platform, conditions=[condition(SNOMED, "82991003")], **scores(4, 3))
    assert applied(platform, bound) == []


@pytest.mark.parametrize(
    ("phq9", "gad7", "expected"),
    [
        (0, 0, "step-2"),
        (9, 7, "step-2"),
        (10, 0, "step-3"),
        (0, 8, "step-3"),
        (27, 21, "step-3"),
    ],
)
def test_step_follows_the_iapt_caseness_thresholds(
    platform: Pathway, phq9: int, gad7: int, expected: str
) -> None:
    bound = variables(platform, conditions=[FIBROMYALGIA], **scores(phq9, gad7))
    assert applied(platform, bound) == [expected]


def test_clinic_thresholds_are_settings(platform: Pathway) -> None:
    settings = dict(platform.definition.settings) | {"phq9StepUpMinimum": 15, "gad7StepUpMinimum": 15}
    bound = variables(platform, conditions=[FIBROMYALGIA], settings=settings, **scores(12, 9))
    assert applied(platform, bound) == ["step-2"]


@pytest.mark.parametrize(
    "given",
    [scores(None, None), scores(12, None), scores(None, 2), scores(12, 9, age_days=40)],
)
def test_no_step_without_current_phq9_and_gad7(platform: Pathway, given: dict[str, object]) -> None:
    bound = variables(platform, conditions=[FIBROMYALGIA], **given)
    assert applied(platform, bound) == ["scores-needed"]


def test_an_open_platform_referral_silences_the_scores_card(platform: Pathway) -> None:
    referral = {
        "definition": STEP_2.split("|")[0],
        "status": "requested",
        "open": True,
        "ageDays": 3,
    }
    bound = variables(platform, conditions=[FIBROMYALGIA], referrals=[referral])
    assert applied(platform, bound) == []


def test_age_rules(platform: Pathway) -> None:
    young = variables(platform, conditions=[FIBROMYALGIA], ageYears=17, **scores(4, 3))
    unknown = variables(platform, conditions=[FIBROMYALGIA], ageYears=[], **scores(4, 3))
    assert applied(platform, young) == []
    assert applied(platform, unknown) == ["age-unknown"]


def test_referral_actions_name_the_platform(platform: Pathway, content: ContentRepository) -> None:
    by_id = {spec.id: spec for spec in platform.definition.actions}
    assert by_id["step-2"].referral is not None
    assert by_id["step-2"].referral.canonical == STEP_2
    assert by_id["step-3"].referral is not None
    assert by_id["step-3"].referral.canonical == STEP_3
    directory = default_content_root() / "directory"
    organization = json.loads((directory / "Organization-pain-platform.json").read_text("utf-8"))
    service = json.loads((directory / "HealthcareService-pain-platform-stepped-care.json").read_text("utf-8"))
    for canonical in (STEP_2, STEP_3):
        worklist = read_worklist(content.resolve("ActivityDefinition", canonical))
        identifiers = [performer["identifier"] for performer in worklist.performers]
        assert identifiers == [service["identifier"][0], organization["identifier"][0]]
        assert worklist.task_owner is not None
        assert worklist.task_owner["identifier"] == organization["identifier"][0]
    assert service["providedBy"]["identifier"] == organization["identifier"][0]


def test_value_set_lists_only_verified_codes(content: ContentRepository) -> None:
    value_set = content.resolve("ValueSet", CWP_VALUE_SET)
    codes = {(i["system"], c["code"]) for i in value_set["compose"]["include"] for c in i["concept"]}
    assert codes == {(SNOMED, "203082005"), (ICD10, "M79.7"), (ICD10CM, "M79.7")}
    assert "verified" in value_set["description"] or "checked" in value_set["description"]
