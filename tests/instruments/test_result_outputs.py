"""What a result becomes: card lines, FHIRPath variables, and the write-back resources declared in content."""

from __future__ import annotations

from datetime import UTC, datetime

from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.riskassessment import RiskAssessment
from fhirpathpy import evaluate as fhirpath_evaluate

from instruments.responses import (
    GAD7,
    GAD7_ITEMS,
    PATIENT_ID,
    PHQ9,
    PHQ9_ITEMS,
    frequency_response,
    nih_response,
    start_back_response,
)
from stratcare.instruments.card_lines import card_lines
from stratcare.instruments.instrument_result import InstrumentResult, results_by_instrument
from stratcare.instruments.observations import result_resources
from stratcare.instruments.registry import InstrumentRegistry

HIGH_RISK = ["agree"] * 8 + ["extremely"]


def _score(registry: InstrumentRegistry, body: dict[str, object]) -> InstrumentResult:
    result = registry.score(body, PATIENT_ID)
    assert isinstance(result, InstrumentResult)
    return result


def test_card_lines_come_from_content(registry: InstrumentRegistry) -> None:
    phq9 = _score(registry, frequency_response(PHQ9, PHQ9_ITEMS, (2, 2, 2, 2, 2, 2, 1, 1, 1)))
    gad7 = _score(registry, frequency_response(GAD7, GAD7_ITEMS, (0, 0, 0, 1, 1, 1, 1)))
    start_back = _score(registry, start_back_response(HIGH_RISK))
    assert card_lines(phq9) == ["PHQ-9 15/27 (Moderately severe)"]
    assert card_lines(gad7) == ["GAD-7 4/21 (Minimal)"]
    assert card_lines(start_back) == ["STarT Back 9/9, psychosocial subscale 5/5: High risk"]


def test_results_are_a_mapping_keyed_by_instrument(registry: InstrumentRegistry) -> None:
    phq9 = _score(registry, frequency_response(PHQ9, PHQ9_ITEMS, (0,) * 8 + (1,)))
    nih = _score(registry, nih_response("6-12m", "every-day"))
    variables = results_by_instrument([phq9, nih], now=datetime(2026, 11, 30, 9, tzinfo=UTC))
    assert set(variables) == {"phq9", "nih"}
    assert variables["phq9"] | {"answers": None} == {
        "instrument": PHQ9,
        "version": "1.0.0",
        "scores": {"total": 1},
        "total": 1,
        "flags": ["self-harm-thoughts"],
        "band": "minimal",
        "bandDisplay": "Minimal",
        "response": "QuestionnaireResponse/qr-1",
        "authored": "2026-11-20T09:00:00+00:00",
        "ageDays": 10,
        "answers": None,
    }
    assert variables["nih"]["band"] == "chronic"


def test_start_back_writes_two_scores_and_a_risk_assessment(registry: InstrumentRegistry) -> None:
    result = _score(registry, start_back_response(HIGH_RISK))
    resources = result_resources(result, PATIENT_ID, "enc-1", reference_of=lambda part: f"urn:test:{part}")
    assert [r.part for r in resources] == ["total-score", "psychosocial-score", "risk-assessment"]
    total, psychosocial, assessment = (r.resource for r in resources)
    assert (total["valueInteger"], psychosocial["valueInteger"]) == (9, 5)
    assert total["code"]["coding"][0]["code"] == "total-score"
    assert total["derivedFrom"] == [{"reference": "QuestionnaireResponse/qr-1"}]
    assert total["category"][0]["coding"][0]["code"] == "survey"
    assert total["encounter"] == {"reference": "Encounter/enc-1"}
    assert assessment["prediction"][0]["qualitativeRisk"]["coding"][0]["code"] == "high"
    assert assessment["basis"] == [
        {"reference": "QuestionnaireResponse/qr-1"},
        {"reference": "urn:test:total-score"},
        {"reference": "urn:test:psychosocial-score"},
    ]
    Observation.model_validate(total)
    RiskAssessment.model_validate(assessment)


def test_phq9_and_gad7_totals_use_their_loinc_codes(registry: InstrumentRegistry) -> None:
    for canonical, items, loinc in ((PHQ9, PHQ9_ITEMS, "44261-6"), (GAD7, GAD7_ITEMS, "70274-6")):
        result = _score(registry, frequency_response(canonical, items, (3,) * len(items)))
        [observation] = result_resources(result, PATIENT_ID, None)
        assert observation.resource["code"]["coding"][0] == {
            "system": "http://loinc.org",
            "code": loinc,
            "display": observation.resource["code"]["coding"][0]["display"],
        }
        assert observation.resource["valueInteger"] == 3 * len(items)
        assert "encounter" not in observation.resource
        Observation.model_validate(observation.resource)


def test_nih_writes_its_band_as_a_coded_value(registry: InstrumentRegistry) -> None:
    result = _score(registry, nih_response("1-3m", "every-day"))
    [observation] = result_resources(result, PATIENT_ID, None)
    assert observation.part == "chronicity"
    assert observation.resource["valueCodeableConcept"]["coding"][0]["code"] == "acute"
    Observation.model_validate(observation.resource)


def test_fhirpath_reads_the_results_mapping(registry: InstrumentRegistry) -> None:
    phq9 = _score(registry, frequency_response(PHQ9, PHQ9_ITEMS, (2,) * 8 + (1,)))
    variables = {"results": results_by_instrument([phq9])}
    assert fhirpath_evaluate({}, "%results.phq9.total >= 10", variables) == [True]
    assert fhirpath_evaluate({}, "%results.phq9.flags contains 'self-harm-thoughts'", variables) == [True]
    assert fhirpath_evaluate({}, "%results.gad7.exists()", variables) == [False]
