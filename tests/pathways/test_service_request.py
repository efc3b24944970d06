"""The draft ServiceRequest a referral suggestion creates, and duplicate avoidance."""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from stratcare.cdshooks.models import Card
from stratcare.instruments.results import Chronicity
from stratcare.pathways import Pathway, PathwayInputs
from support.instrument_results import RiskGroup

from .factories import (
    NOW,
    ORDERS,
    PHYSIO_REFERRAL,
    PIPT,
    SNOMED,
    SequentialUuids,
    inputs,
    nih,
    service_request,
    start_back,
)

PHYSIO_AD = "http://stratcare.org/fhir/ActivityDefinition/physiotherapy-referral|1.0.0"


def created(pathway: Pathway, given: PathwayInputs) -> dict[str, Any]:
    [card] = pathway.apply(given, SequentialUuids())
    assert card.suggestions is not None
    [suggestion] = card.suggestions
    assert suggestion.actions is not None
    [action] = suggestion.actions
    assert action.type == "create"
    assert action.resource is not None
    return action.resource


@pytest.fixture
def medium_request(pathway: Pathway) -> dict[str, Any]:
    return created(pathway, inputs(start_back=start_back(RiskGroup.MEDIUM)))


class TestDraftServiceRequest:
    @pytest.mark.parametrize("risk", [RiskGroup.MEDIUM, RiskGroup.HIGH])
    def test_is_valid_fhir_r4(self, pathway: Pathway, risk: RiskGroup) -> None:
        request = created(pathway, inputs(start_back=start_back(risk), nih=nih(Chronicity.ACUTE)))
        get_fhir_model_class("ServiceRequest").model_validate(request)

    def test_is_a_draft_order(self, medium_request: dict[str, Any]) -> None:
        assert medium_request["status"] == "draft"
        assert medium_request["intent"] == "order"
        assert medium_request["priority"] == "routine"

    def test_names_subject_and_encounter(self, medium_request: dict[str, Any]) -> None:
        assert medium_request["subject"] == {"reference": "Patient/p1"}
        assert medium_request["encounter"] == {"reference": "Encounter/e1"}

    def test_omits_encounter_when_unknown(self, pathway: Pathway) -> None:
        request = created(pathway, inputs(start_back=start_back(RiskGroup.MEDIUM), encounter_id=None))
        assert "encounter" not in request

    def test_carries_category_code_and_reason(self, medium_request: dict[str, Any]) -> None:
        assert medium_request["category"][0]["coding"][0]["code"] == "91251008"
        assert medium_request["code"]["coding"][0] == {
            "system": SNOMED,
            "code": PHYSIO_REFERRAL,
            "display": "Referral to physiotherapist",
        }
        assert medium_request["reasonCode"][0]["coding"][0]["code"] == "279039007"

    def test_records_when_and_from_what(self, medium_request: dict[str, Any]) -> None:
        assert medium_request["authoredOn"] == NOW.isoformat()
        assert medium_request["instantiatesCanonical"] == [PHYSIO_AD]
        assert medium_request["supportingInfo"] == [
            {"reference": "QuestionnaireResponse/sb-1", "display": "STarT Back Screening Tool response"}
        ]

    def test_supporting_info_includes_the_scored_nih_screen(self, pathway: Pathway) -> None:
        given = inputs(start_back=start_back(RiskGroup.HIGH), nih=nih(Chronicity.ACUTE))
        references = [info["reference"] for info in created(pathway, given)["supportingInfo"]]
        assert references == ["QuestionnaireResponse/sb-1", "QuestionnaireResponse/nih-1"]


def only_card(pathway: Pathway, given: PathwayInputs) -> Card:
    [card] = pathway.apply(given, SequentialUuids())
    return card


class TestDuplicateReferrals:
    @pytest.mark.parametrize("status", ["draft", "active", "on-hold"])
    def test_open_referral_with_the_same_code_suppresses_the_suggestion(
        self, pathway: Pathway, status: str
    ) -> None:
        existing = [service_request(status, (SNOMED, PHYSIO_REFERRAL))]
        given = inputs(start_back=start_back(RiskGroup.MEDIUM), service_requests=existing)
        card = only_card(pathway, given)
        assert card.suggestions is None
        assert card.selectionBehavior is None
        assert "A matching order already exists: " in (card.detail or "")
        assert "sr-" not in (card.detail or "")

    @pytest.mark.parametrize("status", ["completed", "revoked", "entered-in-error"])
    def test_closed_referral_does_not_count(self, pathway: Pathway, status: str) -> None:
        existing = [service_request(status, (SNOMED, PHYSIO_REFERRAL))]
        given = inputs(start_back=start_back(RiskGroup.MEDIUM), service_requests=existing)
        assert only_card(pathway, given).suggestions is not None

    def test_plain_physiotherapy_does_not_replace_the_psychologically_informed_referral(
        self, pathway: Pathway
    ) -> None:
        existing = [service_request("active", (SNOMED, PHYSIO_REFERRAL))]
        given = inputs(start_back=start_back(RiskGroup.HIGH), service_requests=existing)
        assert only_card(pathway, given).suggestions is not None

    def test_an_order_made_from_the_same_definition_counts_whatever_its_codes(self, pathway: Pathway) -> None:
        existing = service_request("active", ("http://ehr.example.org/orders", "PT-42"))
        existing["instantiatesCanonical"] = [
            "http://stratcare.org/fhir/ActivityDefinition/physiotherapy-referral|0.9.0"
        ]
        given = inputs(start_back=start_back(RiskGroup.MEDIUM), service_requests=[existing])
        assert only_card(pathway, given).suggestions is None

    def test_psychologically_informed_referral_counts_for_high_risk(self, pathway: Pathway) -> None:
        existing = [service_request("active", (SNOMED, PHYSIO_REFERRAL), (ORDERS, PIPT))]
        given = inputs(start_back=start_back(RiskGroup.HIGH), service_requests=existing)
        assert only_card(pathway, given).suggestions is None
