"""The STarT MSK and Pain Platform PlanDefinitions applied as the engine applies them (``Pathway.apply``) to
responses scored by the instrument registry: the variables the pathway binds itself (``%unavailable``,
``%referrals``, ``%stratificationTool``), and the one-button worklist referral."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from instruments.responses import (
    GAD7,
    GAD7_ITEMS,
    PATIENT_ID,
    PHQ9,
    PHQ9_ITEMS,
    frequency_response,
    start_msk_response,
)
from stratcare.cdshooks.models import Card
from stratcare.content import ContentRepository, default_content_root
from stratcare.instruments.definition import is_instrument, read_definition
from stratcare.instruments.instrument_result import ScoringOutcome
from stratcare.instruments.registry import InstrumentRegistry
from stratcare.pathways import Pathway, PathwayContentError, PathwayInputs, load_pathway
from stratcare.pathways.referral_status import REFERRAL_IDENTIFIER_SYSTEM

from .factories import NOW, SequentialUuids
from .factories import condition as factory_condition
from .factories import inputs as factory_inputs

JsonObject = dict[str, Any]
SNOMED = "http://snomed.info/sct"
PLATFORM = "http://stratcare.org/fhir/PlanDefinition/pain-platform-stepped-care"
MSK = "http://stratcare.org/fhir/PlanDefinition/start-msk-stratified-care"
MSK_FILE = "plan_definitions/PlanDefinition-start-msk-stratified-care.json"
ORDERS = "http://stratcare.org/fhir/CodeSystem/stratcare-orders"
PLATFORM_ORGANIZATION = {"system": "http://stratcare.org/fhir/sid/organization", "value": "pain-platform"}
PLATFORM_SERVICE = {
    "system": "http://stratcare.org/fhir/sid/healthcare-service",
    "value": "pain-platform-stepped-care",
}
ADULT: JsonObject = {"resourceType": "Patient", "id": PATIENT_ID, "birthDate": "1970-05-14"}
DEFINITIONS = {
    definition.key: definition
    for definition in (
        read_definition(questionnaire)
        for questionnaire in ContentRepository.load().all_of("Questionnaire")
        if is_instrument(questionnaire)
    )
}
UNAVAILABLE = "The Keele STarT MSK Tool is unavailable: licensed wording not supplied"


def condition(code: str) -> JsonObject:
    return {
        "resourceType": "Condition",
        "id": f"c-{code}",
        "clinicalStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
            ]
        },
        "code": {"coding": [{"system": SNOMED, "code": code}]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
    }


FIBROMYALGIA = condition("203082005")
NECK_PAIN = condition("81680005")
LOW_BACK_PAIN = condition("279039007")


@pytest.fixture(scope="module")
def registry(content: ContentRepository) -> InstrumentRegistry:
    return InstrumentRegistry.from_content(content)


@pytest.fixture(scope="module")
def licensed_registry(
    content: ContentRepository, tmp_path_factory: pytest.TempPathFactory
) -> InstrumentRegistry:
    folder = tmp_path_factory.mktemp("licensed")
    wording = {f"msk-{number}": f"FAKE TEST WORDING for item {number}" for number in range(1, 11)}
    (folder / "start-msk-wording.json").write_text(json.dumps(wording), encoding="utf-8")
    return InstrumentRegistry.from_content(content, licensed_dir=folder)


@pytest.fixture(scope="module")
def platform(content: ContentRepository) -> Pathway:
    return load_pathway(content, PLATFORM)


@pytest.fixture(scope="module")
def msk(content: ContentRepository) -> Pathway:
    return load_pathway(content, MSK)


def scored(registry: InstrumentRegistry, response: JsonObject) -> ScoringOutcome:
    return registry.score(response, PATIENT_ID)


def mental_health(
    registry: InstrumentRegistry, phq9: tuple[int, ...], gad7: tuple[int, ...]
) -> dict[str, Any]:
    return {
        "phq9": scored(registry, frequency_response(PHQ9, PHQ9_ITEMS, phq9, id="phq")),
        "gad7": scored(registry, frequency_response(GAD7, GAD7_ITEMS, gad7, id="gad")),
    }


def inputs(**fields: Any) -> PathwayInputs:
    given: dict[str, Any] = {"patient_id": PATIENT_ID, "now": NOW, "patient": ADULT} | fields
    outcomes: dict[str, ScoringOutcome] = given.get("results", {})
    instruments = {key: DEFINITIONS[key] for key in outcomes}
    return PathwayInputs(instruments=instruments, **given)


def cards(pathway: Pathway, given: PathwayInputs) -> list[Card]:
    return pathway.apply(given, SequentialUuids())


def created(card: Card) -> list[JsonObject]:
    return [
        action.resource
        for suggestion in card.suggestions or []
        for action in suggestion.actions or []
        if action.type == "create" and action.resource is not None
    ]


MILD = ((1, 1, 0, 0, 1, 0, 0, 1, 0), (1, 0, 1, 0, 0, 1, 0))  # PHQ-9 4, GAD-7 3
DEPRESSED = ((2, 2, 2, 1, 1, 1, 1, 1, 0), (1, 1, 1, 1, 1, 0, 0))  # PHQ-9 11, GAD-7 5


class TestWorklistReferral:
    def test_one_suggestion_creates_the_pended_request_and_its_task(
        self, platform: Pathway, registry: InstrumentRegistry
    ) -> None:
        given = inputs(results=mental_health(registry, *DEPRESSED), conditions=(FIBROMYALGIA,))
        [card] = cards(platform, given)
        [suggestion] = card.suggestions or []
        assert [action.type for action in suggestion.actions or []] == ["create", "create"]
        request, task = created(card)
        assert (request["resourceType"], request["status"], request["intent"]) == (
            "ServiceRequest",
            "draft",
            "order",
        )
        assert [p["identifier"] for p in request["performer"]] == [PLATFORM_SERVICE, PLATFORM_ORGANIZATION]
        [identifier] = request["identifier"]
        assert identifier["system"] == REFERRAL_IDENTIFIER_SYSTEM
        assert request["supportingInfo"] == [
            {"reference": "QuestionnaireResponse/phq", "display": "PHQ-9 response"},
            {"reference": "QuestionnaireResponse/gad", "display": "GAD-7 response"},
        ]
        assert (task["resourceType"], task["status"], task["intent"]) == ("Task", "requested", "order")
        assert task["focus"]["identifier"] == identifier
        assert task["owner"]["identifier"] == PLATFORM_ORGANIZATION
        assert task["for"] == {"reference": f"Patient/{PATIENT_ID}"}

    @pytest.mark.parametrize(
        ("answers", "step"),
        [(MILD, "pain-platform-low-intensity-cbt"), (DEPRESSED, "pain-platform-high-intensity-cbt")],
    )
    def test_the_step_follows_the_scores(
        self,
        platform: Pathway,
        registry: InstrumentRegistry,
        answers: tuple[tuple[int, ...], tuple[int, ...]],
        step: str,
    ) -> None:
        given = inputs(results=mental_health(registry, *answers), conditions=(FIBROMYALGIA,))
        [card] = cards(platform, given)
        request, _task = created(card)
        assert (ORDERS, step) in {(c["system"], c["code"]) for c in request["code"]["coding"]}

    def test_a_referral_in_the_worklist_is_not_offered_twice(
        self, platform: Pathway, registry: InstrumentRegistry
    ) -> None:
        first = cards(platform, inputs(results=mental_health(registry, *MILD), conditions=(FIBROMYALGIA,)))
        request, task = (dict(resource) for resource in created(first[0]))
        sent = inputs(
            results=mental_health(registry, *MILD),
            conditions=(FIBROMYALGIA,),
            service_requests=(request | {"id": "sr-1"},),
            tasks=(task | {"id": "t-1"},),
        )
        [card] = cards(platform, sent)
        assert card.suggestions is None
        assert "already" in card.summary

    @pytest.mark.parametrize("status", ["rejected", "cancelled", "failed", "completed"])
    def test_a_referral_the_platform_closed_may_be_sent_again(
        self, platform: Pathway, registry: InstrumentRegistry, status: str
    ) -> None:
        first = cards(platform, inputs(results=mental_health(registry, *MILD), conditions=(FIBROMYALGIA,)))
        request, task = (dict(resource) for resource in created(first[0]))
        closed = inputs(
            results=mental_health(registry, *MILD),
            conditions=(FIBROMYALGIA,),
            service_requests=(request | {"id": "sr-1", "status": "active"},),
            tasks=(task | {"id": "t-1", "status": status},),
        )
        [card] = cards(platform, closed)
        assert len(created(card)) == 2

    def test_a_referral_with_no_receiving_service_stays_one_plain_draft(
        self, msk: Pathway, licensed_registry: InstrumentRegistry
    ) -> None:
        medium = scored(licensed_registry, start_msk_response(6, (True,) * 5 + (False,) * 4, id="msk"))
        [card] = cards(msk, inputs(results={"startMsk": medium}, conditions=(NECK_PAIN,)))
        [request] = created(card)
        assert "identifier" not in request
        assert "performer" not in request


class TestStartMsk:
    def test_the_tool_for_the_pain_site_is_bound_by_the_pathway(
        self, msk: Pathway, licensed_registry: InstrumentRegistry
    ) -> None:
        high = scored(licensed_registry, start_msk_response(10, (True,) * 8 + (False,), id="msk"))
        [neck] = cards(msk, inputs(results={"startMsk": high}, conditions=(NECK_PAIN,)))
        assert neck.summary.startswith("STarT MSK high risk")
        assert cards(msk, inputs(results={"startMsk": high}, conditions=(LOW_BACK_PAIN,))) == []

    def test_an_unavailable_tool_gets_a_card_saying_so(
        self, msk: Pathway, registry: InstrumentRegistry
    ) -> None:
        refused = scored(registry, start_msk_response(6, (True,) * 5 + (False,) * 4, id="msk"))
        given = inputs(
            results={"startMsk": refused}, conditions=(NECK_PAIN,), unavailable={"startMsk": UNAVAILABLE}
        )
        [card] = cards(msk, given)
        assert card.summary == "STarT MSK Tool unavailable here: licensed wording not supplied"
        assert card.suggestions is None
        assert UNAVAILABLE in (card.detail or "")


def content_copy(root: Path, edit: Any) -> ContentRepository:
    for folder in ("plan_definitions", "terminology", "questionnaires"):
        shutil.copytree(default_content_root() / folder, root / folder)
    plan = json.loads((root / MSK_FILE).read_text(encoding="utf-8"))
    edit(plan)
    (root / MSK_FILE).write_text(json.dumps(plan), encoding="utf-8")
    return ContentRepository.load(root)


def _drop_tool_setting(plan: JsonObject) -> None:
    plan["extension"] = [e for e in plan["extension"] if e["extension"][0]["valueString"] != "toolBySite"]


def _name_missing_concept_map(plan: JsonObject) -> None:
    for setting in plan["extension"]:
        name, value = setting["extension"]
        if name["valueString"] == "toolBySite":
            value["valueCode"] = "no-such-map"


class TestToolSettingChecks:
    def test_tool_variables_without_the_setting_stop_start_up(self, tmp_path: Path) -> None:
        content = content_copy(tmp_path, _drop_tool_setting)
        with pytest.raises(
            PathwayContentError, match="stratificationTool.*without the pathway setting toolBySite"
        ):
            load_pathway(content, MSK)

    def test_a_setting_naming_no_concept_map_stops_start_up(self, tmp_path: Path) -> None:
        content = content_copy(tmp_path, _name_missing_concept_map)
        with pytest.raises(PathwayContentError, match="no ConceptMap .*no-such-map"):
            load_pathway(content, MSK)


START_BACK_PLAN = "http://stratcare.org/fhir/PlanDefinition/start-back-stratified-care"
START_BACK_FILE = "plan_definitions/PlanDefinition-start-back-stratified-care.json"
KNEE_PAIN = ("30989003", SNOMED)


def asked_for(pathway: Pathway, *codes: tuple[str, str]) -> list[str]:
    """The screening actions that apply for a patient with these Conditions and no screen on record."""
    instruments = {key: DEFINITIONS[key] for key in ("startBack", "nih", "startMsk")}
    given = factory_inputs(conditions=[factory_condition(code, system) for code, system in codes])
    given = replace(given, instruments=instruments)
    return [a.spec.id for a in pathway.evaluate(given) if a.spec.id.startswith("screening-due")]


class TestNoPatientIsAskedForBothTools:
    @pytest.mark.parametrize(
        ("codes", "start_back", "start_msk"),
        [
            ([("279039007", SNOMED)], ["screening-due"], []),  # low back pain: STarT Back
            ([("279039007", SNOMED), KNEE_PAIN], [], ["screening-due"]),  # multisite: STarT MSK
            ([("M54.5", "http://hl7.org/fhir/sid/icd-10")], ["screening-due"], []),
        ],
    )
    def test_the_tool_by_site_setting_picks_one_screen(
        self,
        pathway: Pathway,
        msk: Pathway,
        codes: list[tuple[str, str]],
        start_back: list[str],
        start_msk: list[str],
    ) -> None:
        assert asked_for(pathway, *codes) == start_back
        assert asked_for(msk, *codes) == start_msk

    def test_msk_for_all_asks_for_start_msk_instead_of_start_back(self, tmp_path: Path) -> None:
        for folder in ("plan_definitions", "terminology", "questionnaires"):
            shutil.copytree(default_content_root() / folder, tmp_path / folder)
        for plan_file in (START_BACK_FILE, MSK_FILE):
            plan = json.loads((tmp_path / plan_file).read_text(encoding="utf-8"))
            for setting in plan["extension"]:
                name, value = setting["extension"]
                if name["valueString"] == "toolBySite":
                    value["valueCode"] = "stratification-tool-msk-for-all"
            (tmp_path / plan_file).write_text(json.dumps(plan), encoding="utf-8")
        content = ContentRepository.load(tmp_path)
        low_back = ("279039007", SNOMED)
        assert asked_for(load_pathway(content, START_BACK_PLAN), low_back) == []
        assert asked_for(load_pathway(content, MSK), low_back) == ["screening-due"]


STATUS_PLAN = "http://stratcare.org/fhir/PlanDefinition/stratcare-referral-status"


def open_order(definition: str) -> JsonObject:
    return {
        "resourceType": "ServiceRequest",
        "id": definition,
        "status": "active",
        "intent": "order",
        "instantiatesCanonical": [f"http://stratcare.org/fhir/ActivityDefinition/{definition}|1.0.0"],
        "code": {"text": definition},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "authoredOn": "2026-10-31T09:00:00Z",  # 20 days before NOW
    }


class TestReferralStatusPathway:
    @pytest.mark.parametrize(
        ("definition", "expected"),
        [
            ("physiotherapy-referral", ["Referral not yet accepted: chase the receiving service"]),
            ("start-back-screening-request", []),  # the clinic's own screening order, no referral
            ("start-msk-screening-request", []),
        ],
    )
    def test_only_referrals_to_another_service_are_followed(
        self, content: ContentRepository, definition: str, expected: list[str]
    ) -> None:
        status = load_pathway(content, STATUS_PLAN)
        found = cards(status, inputs(service_requests=(open_order(definition),)))
        assert [card.summary for card in found] == expected
        for card in found:
            assert "Screening results" not in (card.detail or ""), "the service scores no instrument"
            assert "ordered 2026-10-31" in (card.detail or "")
