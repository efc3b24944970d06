"""The write-back Bundle: valid FHIR R4, stable identifiers, conditional creates, right references."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from stratcare.instruments.instrument_result import InstrumentResult
from stratcare.instruments.results import ResponseSource
from stratcare.writeback.resources import IDENTIFIER_SYSTEM, Encounter, result_entries, transaction
from support.instrument_results import nih_result, start_back_result

SOURCE = ResponseSource(
    response_id="qr1",
    version_id="2",
    questionnaire="http://stratcare.org/fhir/Questionnaire/start-back|1.0.0",
    authored=datetime(2026, 11, 20, 9, 15, tzinfo=UTC),
)
WHERE = Encounter(patient_id="p1", encounter_id="e1")


def score(risk: str = "high") -> InstrumentResult:
    return start_back_result(
        source=SOURCE, instrument_version="1.0.0", total=7, psychosocial=4, risk_group=risk
    )


def by_type(entries: list[dict[str, Any]], resource_type: str) -> list[dict[str, Any]]:
    return [entry for entry in entries if entry["resource"]["resourceType"] == resource_type]


class TestStartBackEntries:
    def test_the_bundle_is_valid_fhir_r4(self) -> None:
        Bundle.model_validate(transaction(result_entries(score(), WHERE)))

    def test_two_score_observations_and_one_risk_assessment(self) -> None:
        entries = result_entries(score(), WHERE)
        observations = by_type(entries, "Observation")
        assert [o["resource"]["valueInteger"] for o in observations] == [7, 4]
        for observation in observations:
            resource = observation["resource"]
            assert resource["category"][0]["coding"][0]["code"] == "survey"
            assert resource["derivedFrom"] == [{"reference": "QuestionnaireResponse/qr1"}]
            assert resource["subject"] == {"reference": "Patient/p1"}
            assert resource["encounter"] == {"reference": "Encounter/e1"}
        assert len(by_type(entries, "RiskAssessment")) == 1

    @pytest.mark.parametrize(("risk", "code"), [("low", "low"), ("medium", "moderate"), ("high", "high")])
    def test_risk_group_maps_to_hl7_risk_probability(self, risk: str, code: str) -> None:
        (assessment,) = by_type(result_entries(score(risk), WHERE), "RiskAssessment")
        coding = assessment["resource"]["prediction"][0]["qualitativeRisk"]["coding"][0]
        assert coding == {
            "system": "http://terminology.hl7.org/CodeSystem/risk-probability",
            "code": code,
            "display": coding["display"],
        }

    def test_risk_assessment_basis_is_the_response_and_its_observations(self) -> None:
        entries = result_entries(score(), WHERE)
        (assessment,) = by_type(entries, "RiskAssessment")
        observation_urls = [entry["fullUrl"] for entry in by_type(entries, "Observation")]
        assert assessment["resource"]["basis"] == [
            {"reference": "QuestionnaireResponse/qr1"},
            *({"reference": url} for url in observation_urls),
        ]
        assert "1.0.0" in assessment["resource"]["method"]["text"]

    def test_every_entry_is_a_conditional_create_on_its_identifier(self) -> None:
        for entry in result_entries(score(), WHERE):
            (identifier,) = entry["resource"]["identifier"]
            assert identifier["system"] == IDENTIFIER_SYSTEM
            assert entry["request"] == {
                "method": "POST",
                "url": entry["resource"]["resourceType"],
                "ifNoneExist": f"identifier={IDENTIFIER_SYSTEM}|{identifier['value']}",
            }

    def test_the_same_response_yields_the_same_bundle(self) -> None:
        assert result_entries(score(), WHERE) == result_entries(score(), WHERE)

    def test_a_new_response_version_yields_new_identifiers(self) -> None:
        newer = start_back_result(
            source=ResponseSource("qr1", "3", SOURCE.questionnaire, SOURCE.authored),
            instrument_version="1.0.0",
            total=7,
            psychosocial=4,
            risk_group="high",
        )
        old = {e["resource"]["identifier"][0]["value"] for e in result_entries(score(), WHERE)}
        new = {e["resource"]["identifier"][0]["value"] for e in result_entries(newer, WHERE)}
        assert old.isdisjoint(new)

    def test_no_encounter_no_encounter_reference(self) -> None:
        entries = result_entries(score(), Encounter(patient_id="p1", encounter_id=None))
        assert all("encounter" not in entry["resource"] for entry in entries)


def test_nih_classification_observation() -> None:
    result = nih_result(
        source=SOURCE,
        instrument_version="1.0.0",
        duration_code="1-5y",
        frequency_code="every-day",
        chronicity="chronic",
    )
    bundle = transaction(result_entries(result, WHERE))
    Bundle.model_validate(bundle)
    (entry,) = bundle["entry"]
    assert entry["resource"]["valueCodeableConcept"]["coding"][0]["code"] == "chronic"
