"""Clinical content is data: an edited copy of the JSON changes the cards, a broken one fails to load."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from stratcare.content import ContentError, ContentRepository, default_content_root
from stratcare.instruments.results import ScreenDate
from stratcare.pathways import Pathway, PathwayContentError, load_pathway
from support.instrument_results import RiskGroup

from .conftest import PLAN
from .factories import SequentialUuids, inputs, start_back

PLAN_FILE = "plan_definitions/PlanDefinition-start-back-stratified-care.json"
JsonEdit = Callable[[dict[str, Any]], None]


def action(plan: dict[str, Any], action_id: str) -> dict[str, Any]:
    return next(a for a in plan["action"] if a["id"] == action_id)


def edited_pathway(tmp_path: Path, edit: JsonEdit) -> Pathway:
    root = default_content_root()
    for folder in ("questionnaires", "plan_definitions", "terminology"):
        shutil.copytree(root / folder, tmp_path / folder)
    plan_path = tmp_path / PLAN_FILE
    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    edit(plan)
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    return load_pathway(ContentRepository.load(tmp_path), PLAN)


class TestEditedPathway:
    def test_clinic_can_drop_the_medium_risk_referral(self, tmp_path: Path) -> None:
        def no_referral(plan: dict[str, Any]) -> None:
            medium = action(plan, "medium-risk")
            del medium["definitionCanonical"]
            medium["title"] = "STarT Back medium risk: advise exercise and review in two weeks"

        pathway = edited_pathway(tmp_path, no_referral)
        [card] = pathway.apply(inputs(start_back=start_back(RiskGroup.MEDIUM)), SequentialUuids())
        assert card.suggestions is None
        assert card.summary == "STarT Back medium risk: advise exercise and review in two weeks"

    def test_clinic_can_change_the_leaflet(self, tmp_path: Path) -> None:
        def local_leaflet(plan: dict[str, Any]) -> None:
            action(plan, "low-risk")["documentation"] = [
                {
                    "type": "documentation",
                    "display": "Our back pain leaflet",
                    "url": "https://clinic.example/back",
                }
            ]

        pathway = edited_pathway(tmp_path, local_leaflet)
        [card] = pathway.apply(inputs(start_back=start_back(RiskGroup.LOW)), SequentialUuids())
        assert card.links is not None
        assert [(link.label, link.url) for link in card.links] == [
            ("Our back pain leaflet", "https://clinic.example/back")
        ]

    def test_clinic_can_raise_the_card_priority(self, tmp_path: Path) -> None:
        def urgent(plan: dict[str, Any]) -> None:
            action(plan, "medium-risk")["priority"] = "urgent"

        pathway = edited_pathway(tmp_path, urgent)
        [card] = pathway.apply(inputs(start_back=start_back(RiskGroup.MEDIUM)), SequentialUuids())
        assert card.indicator == "warning"


def set_first_condition(action_id: str, expression: str) -> JsonEdit:
    def edit(plan: dict[str, Any]) -> None:
        action(plan, action_id)["condition"][0]["expression"]["expression"] = expression

    return edit


class TestBrokenContent:
    def test_unknown_priority_fails_at_load(self, tmp_path: Path) -> None:
        def unknown(plan: dict[str, Any]) -> None:
            action(plan, "low-risk")["priority"] = "whenever"

        # A code outside PlanDefinition.action.priority's required binding is refused with the content.
        with pytest.raises(ContentError, match=r"PlanDefinition\.action\[\d+\]\.priority: 'whenever'"):
            edited_pathway(tmp_path, unknown)

    def test_missing_priority_fails_at_load(self, tmp_path: Path) -> None:
        def missing(plan: dict[str, Any]) -> None:
            del action(plan, "low-risk")["priority"]

        with pytest.raises(PathwayContentError, match="no card indicator"):
            edited_pathway(tmp_path, missing)

    def test_syntax_error_fails_at_load(self, tmp_path: Path) -> None:
        with pytest.raises(PathwayContentError, match="syntax error"):
            edited_pathway(tmp_path, set_first_condition("low-risk", "%startBack.riskGroup = "))

    def test_unknown_value_set_fails_at_load(self, tmp_path: Path) -> None:
        edit = set_first_condition("red-flag", "%conditions.where(code.memberOf('http://x/vs')).exists()")
        with pytest.raises(PathwayContentError, match="unknown ValueSet"):
            edited_pathway(tmp_path, edit)

    def test_non_boolean_condition_fails_at_apply(self, tmp_path: Path) -> None:
        pathway = edited_pathway(tmp_path, set_first_condition("low-risk", "%startBack.total"))
        with pytest.raises(PathwayContentError, match="must give one boolean"):
            pathway.apply(inputs(start_back=start_back(RiskGroup.LOW)), SequentialUuids())

    def test_unknown_activity_definition_fails_at_load(self, tmp_path: Path) -> None:
        def dangling(plan: dict[str, Any]) -> None:
            action(plan, "medium-risk")["definitionCanonical"] = "http://x/ActivityDefinition/none"

        with pytest.raises(PathwayContentError, match="unknown ActivityDefinition"):
            edited_pathway(tmp_path, dangling)

    def test_other_expression_language_fails_at_load(self, tmp_path: Path) -> None:
        def cql(plan: dict[str, Any]) -> None:
            action(plan, "low-risk")["condition"][0]["expression"]["language"] = "text/cql"

        with pytest.raises(PathwayContentError, match="text/fhirpath"):
            edited_pathway(tmp_path, cql)

    def test_nested_actions_fail_at_load(self, tmp_path: Path) -> None:
        def nested(plan: dict[str, Any]) -> None:
            action(plan, "low-risk")["action"] = [{"title": "nested"}]

        with pytest.raises(PathwayContentError, match="unsupported elements"):
            edited_pathway(tmp_path, nested)

    def test_title_naming_the_wrong_risk_fails_at_apply(self, tmp_path: Path) -> None:
        def wrong(plan: dict[str, Any]) -> None:
            action(plan, "medium-risk")["title"] = "STarT Back high risk: refer"

        pathway = edited_pathway(tmp_path, wrong)
        with pytest.raises(PathwayContentError, match="other than medium"):
            pathway.apply(inputs(start_back=start_back(RiskGroup.MEDIUM)), SequentialUuids())

    def test_unknown_plan_definition_raises(self) -> None:
        with pytest.raises(PathwayContentError, match="unknown PlanDefinition"):
            load_pathway(ContentRepository.load(), "http://stratcare.org/fhir/PlanDefinition/none")


@pytest.mark.parametrize(
    "extension_url",
    [
        "http://stratcare.org/fhir/StructureDefinition/cds-override-reasons",
        "http://stratcare.org/fhir/StructureDefinition/servicerequest-category",
        "http://stratcare.org/fhir/StructureDefinition/pathway-setting",
    ],
)
def test_project_extensions_are_defined_in_the_content(extension_url: str) -> None:
    from stratcare.pathways.definition import OVERRIDE_REASONS_EXTENSION, PATHWAY_SETTING_EXTENSION
    from stratcare.pathways.referrals import SERVICE_REQUEST_CATEGORY_EXTENSION

    assert extension_url in {
        OVERRIDE_REASONS_EXTENSION,
        SERVICE_REQUEST_CATEGORY_EXTENSION,
        PATHWAY_SETTING_EXTENSION,
    }
    definition = ContentRepository.load().resolve("StructureDefinition", extension_url)
    assert definition["type"] == "Extension"


def set_setting(name: str, value: int | str | None) -> JsonEdit:
    """Change (or, with None, remove) one pathway setting."""

    def edit(plan: dict[str, Any]) -> None:
        kept = []
        for setting in plan["extension"]:
            named, held = setting["extension"]
            if named["valueString"] == name:
                if value is None:
                    continue
                held.clear()
                held.update(
                    {"url": "value", "valueInteger" if isinstance(value, int) else "valueCode": value}
                )
            kept.append(setting)
        plan["extension"] = kept

    return edit


class TestPathwaySettings:
    def test_shipped_defaults(self) -> None:
        settings = load_pathway(ContentRepository.load(), PLAN).definition.settings
        assert settings == {
            "screenWindowDays": 28,
            "minimumAgeYears": 16,
            "orderWindowDays": 84,
            "referralDurationScope": "any-duration",
            "toolBySite": "stratification-tool-by-site",
        }

    def test_clinic_can_shorten_the_screen_window(self, tmp_path: Path) -> None:
        pathway = edited_pathway(tmp_path, set_setting("screenWindowDays", 14))
        three_weeks_ago = ScreenDate(datetime(2026, 10, 30, tzinfo=UTC), "day", "authored")
        [card] = pathway.apply(
            inputs(start_back=start_back(RiskGroup.HIGH, dated=three_weeks_ago)), SequentialUuids()
        )
        assert card.summary.startswith("STarT Back screen out of date")
        assert "older than the 14-day screening window" in (card.detail or "")

    def test_clinic_can_set_the_trial_age_of_18(self, tmp_path: Path) -> None:
        pathway = edited_pathway(tmp_path, set_setting("minimumAgeYears", 18))
        seventeen = {"resourceType": "Patient", "id": "p1", "birthDate": "2009-06-01"}
        given = inputs(patient=seventeen, start_back=start_back(RiskGroup.HIGH))
        assert pathway.apply(given, SequentialUuids()) == []

    @pytest.mark.parametrize("name", ["screenWindowDays", "orderWindowDays"])
    def test_a_missing_engine_setting_fails_at_load(self, tmp_path: Path, name: str) -> None:
        with pytest.raises(PathwayContentError, match=f"needs the pathway setting {name}"):
            edited_pathway(tmp_path, set_setting(name, None))

    def test_a_condition_naming_an_undefined_setting_fails_at_load(self, tmp_path: Path) -> None:
        # Otherwise %settings.minimumAgeYears would be empty and every card silently false.
        with pytest.raises(PathwayContentError, match="undefined pathway settings \\['minimumAgeYears'\\]"):
            edited_pathway(tmp_path, set_setting("minimumAgeYears", None))

    def test_a_setting_given_twice_fails_at_load(self, tmp_path: Path) -> None:
        def twice(plan: dict[str, Any]) -> None:
            plan["extension"].append(plan["extension"][0])

        with pytest.raises(PathwayContentError, match="given twice"):
            edited_pathway(tmp_path, twice)
