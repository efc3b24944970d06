"""Planning write-backs: one Bundle per scored response, stable keys, and valid CDS Hooks systemActions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.riskassessment import RiskAssessment

from stratcare.cdshooks.models import HookResponse
from stratcare.instruments.results import ResponseRejected, ResponseSource
from stratcare.writeback.planner import plan_writes, system_actions
from stratcare.writeback.resources import IDENTIFIER_SYSTEM
from support.instrument_results import nih_result, start_back_result

HOOK = UUID("d1577c69-dfbe-44ad-ba6d-3e05e953b2ea")
SOURCE = ResponseSource(
    response_id="qr1",
    version_id="2",
    questionnaire="http://stratcare.org/fhir/Questionnaire/start-back|1.0.0",
    authored=datetime(2026, 11, 20, 9, 15, tzinfo=UTC),
)
NIH_SOURCE = ResponseSource("qr2", None, "http://stratcare.org/fhir/Questionnaire/nih-clbp|1.0.0", None)
START_BACK = start_back_result(SOURCE, "1.0.0", total=7, psychosocial=4, risk_group="high")
NIH = nih_result(NIH_SOURCE, "1.0.0", "1-5y", "every-day", "chronic")
REJECTED = ResponseRejected(SOURCE, "http://stratcare.org/fhir/Questionnaire/start-back", ("item 3 missing",))


def plan(*assessments: Any, fhir_server: str | None = "https://ehr.example.org/fhir") -> Any:
    return plan_writes(HOOK, "p1", "e1", fhir_server, assessments)


def walk(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for name, value in node.items():
            yield name, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


class TestPlanWrites:
    def test_one_valid_bundle_per_scored_assessment(self) -> None:
        start_back, nih = plan(START_BACK, NIH)
        assert len(start_back.bundle["entry"]) == 3
        assert len(nih.bundle["entry"]) == 1
        for write in (start_back, nih):
            Bundle.model_validate(write.bundle)
            assert write.bundle["type"] == "transaction"
            assert write.hook_instance == HOOK
            assert write.fhir_server == "https://ehr.example.org/fhir"

    def test_keys_name_response_version_instrument_version_and_instrument(self) -> None:
        start_back, nih = plan(START_BACK, NIH)
        assert start_back.key == "qr1:2:1.0.0:start-back"
        assert nih.key == "qr2:-:1.0.0:nih-clbp"

    def test_keys_and_bundles_are_stable_across_calls(self) -> None:
        assert plan(START_BACK, NIH) == plan(START_BACK, NIH)
        other_hook = plan_writes(UUID(int=1), "p1", "e1", None, [START_BACK])
        assert other_hook[0].key == plan(START_BACK)[0].key

    def test_a_new_response_version_gets_a_new_key(self) -> None:
        newer = start_back_result(
            ResponseSource("qr1", "3", SOURCE.questionnaire, SOURCE.authored), "1.0.0", 7, 4, "high"
        )
        assert plan(newer)[0].key != plan(START_BACK)[0].key

    def test_a_rejected_response_writes_nothing(self) -> None:
        assert plan(REJECTED) == []
        assert [write.key for write in plan(REJECTED, NIH)] == ["qr2:-:1.0.0:nih-clbp"]

    def test_the_same_assessment_twice_is_planned_once(self) -> None:
        assert len(plan(START_BACK, START_BACK)) == 1

    def test_no_fhir_server_means_the_configured_one(self) -> None:
        assert plan(START_BACK, fhir_server=None)[0].fhir_server is None


class TestSystemActions:
    def test_one_create_action_per_resource(self) -> None:
        actions = system_actions(plan(START_BACK, NIH))
        assert [action.resource["resourceType"] for action in actions if action.resource] == [
            "Observation",
            "Observation",
            "RiskAssessment",
            "Observation",
        ]
        assert {action.type for action in actions} == {"create"}

    def test_actions_fit_the_cds_hooks_response_with_no_nulls(self) -> None:
        body = HookResponse(cards=[], systemActions=system_actions(plan(START_BACK, NIH))).to_json()
        for action in body["systemActions"]:
            assert set(action) == {"type", "description", "resource"}
            assert action["description"].strip()
            assert "id" not in action["resource"]
        assert all(value is not None for _, value in walk(body))

    def test_resources_are_valid_fhir_r4(self) -> None:
        for action in system_actions(plan(START_BACK)):
            resource = action.resource or {}
            model = Observation if resource["resourceType"] == "Observation" else RiskAssessment
            model.model_validate(resource)

    def test_no_urn_uuid_reference_is_left(self) -> None:
        body = HookResponse(cards=[], systemActions=system_actions(plan(START_BACK))).to_json()
        references = [value for name, value in walk(body) if name == "reference"]
        assert references
        assert not [reference for reference in references if reference.startswith("urn:uuid:")]

    def test_risk_assessment_basis_names_the_observations_by_identifier(self) -> None:
        actions = system_actions(plan(START_BACK))
        observations = [
            a.resource for a in actions if a.resource and a.resource["resourceType"] == "Observation"
        ]
        (assessment,) = [
            a.resource for a in actions if a.resource and a.resource["resourceType"] == "RiskAssessment"
        ]
        assert assessment["basis"] == [
            {"reference": "QuestionnaireResponse/qr1"},
            *(
                {
                    "type": "Observation",
                    "identifier": {"system": IDENTIFIER_SYSTEM, "value": o["identifier"][0]["value"]},
                }
                for o in observations
            ),
        ]

    def test_the_outbox_bundle_is_left_untouched(self) -> None:
        writes = plan(START_BACK)
        before = Bundle.model_validate(writes[0].bundle).model_dump()
        system_actions(writes)
        assert Bundle.model_validate(writes[0].bundle).model_dump() == before
        assert writes[0].bundle["entry"][2]["resource"]["basis"][1]["reference"].startswith("urn:uuid:")

    def test_no_writes_no_actions(self) -> None:
        assert system_actions([]) == []
