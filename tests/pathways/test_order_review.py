"""order-select / order-sign: imaging, opioids and referrals against stratified care, never blocking."""

from __future__ import annotations

import pytest

from stratcare.content import ContentRepository
from stratcare.pathways import Pathway, load_pathway
from support.instrument_results import RiskGroup

from .factories import (
    CAUDA_EQUINA,
    LOW_BACK_PAIN,
    ORDERS,
    PHYSIO_REFERRAL,
    PIPT,
    SNOMED,
    SequentialUuids,
    condition,
    inputs,
    start_back,
)
from .workflow_factories import (
    LOINC,
    MRI_LUMBAR,
    ORDER_REVIEW,
    RXNORM,
    XR_LUMBAR_LOINC,
    categorised,
    draft_medication,
    draft_service_request,
    rxnorm_product_order,
    workflow,
)


@pytest.fixture(scope="module")
def review(content: ContentRepository) -> Pathway:
    return load_pathway(content, ORDER_REVIEW)


def applied(review: Pathway, *orders: dict[str, object], **overrides: object) -> list[str]:
    facts = workflow(hook="order-sign", draft_orders=tuple(orders))
    return [action.spec.id for action in review.evaluate(inputs(workflow=facts, **overrides))]


class TestImaging:
    def test_lumbar_imaging_without_a_screen_warns_and_offers_the_screen(
        self, review: Pathway, new_uuid: SequentialUuids
    ) -> None:
        facts = workflow(hook="order-sign", draft_orders=(draft_service_request(MRI_LUMBAR),))
        (card,) = review.apply(inputs(workflow=facts), new_uuid)
        assert card.indicator == "warning"
        assert "imaging" in card.summary.lower()
        (suggestion,) = card.suggestions or []
        (action,) = suggestion.actions or []
        assert action.type == "create"
        assert action.resource is not None
        assert action.resource["code"]["coding"][0]["code"] == "start-back-screening"

    def test_the_card_never_suggests_deleting_an_order(
        self, review: Pathway, new_uuid: SequentialUuids
    ) -> None:
        facts = workflow(hook="order-sign", draft_orders=(draft_service_request(MRI_LUMBAR),))
        cards = review.apply(inputs(workflow=facts), new_uuid)
        assert all(a.type != "delete" for c in cards for s in c.suggestions or [] for a in s.actions or [])

    def test_a_current_screen_silences_it(self, review: Pathway) -> None:
        orders = (draft_service_request(MRI_LUMBAR),)
        assert applied(review, *orders, start_back=start_back(RiskGroup.MEDIUM)) == []

    def test_a_red_flag_wins(self, review: Pathway) -> None:
        orders = (draft_service_request(MRI_LUMBAR),)
        conditions = [condition(LOW_BACK_PAIN), condition(CAUDA_EQUINA)]
        assert applied(review, *orders, conditions=conditions) == ["red-flag"]

    def test_other_imaging_says_nothing(self, review: Pathway) -> None:
        assert applied(review, draft_service_request("241641004")) == []  # MRI of knee


class TestOpioids:
    def test_an_opioid_for_identified_back_pain_without_a_screen_warns(self, review: Pathway) -> None:
        back_pain = categorised(LOW_BACK_PAIN, "problem-list-item")
        assert applied(review, draft_medication(), conditions=[back_pain]) == ["opioid-without-screen"]

    def test_an_opioid_without_coded_back_pain_says_nothing(self, review: Pathway) -> None:
        assert applied(review, draft_medication(), conditions=[]) == []

    def test_an_old_encounter_diagnosis_does_not_identify_back_pain(self, review: Pathway) -> None:
        old = categorised(LOW_BACK_PAIN, "encounter-diagnosis", recorded="2026-05-01")
        assert applied(review, draft_medication(), conditions=[old]) == []

    def test_a_recent_encounter_diagnosis_does(self, review: Pathway) -> None:
        recent = categorised(LOW_BACK_PAIN, "encounter-diagnosis", recorded="2026-11-10")
        assert applied(review, draft_medication(), conditions=[recent]) == ["opioid-without-screen"]

    def test_the_encounter_reason_does(self, review: Pathway) -> None:
        encounter = {
            "resourceType": "Encounter",
            "id": "e1",
            "status": "in-progress",
            "class": {"code": "AMB"},
            "reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M54.50"}]}],
        }
        assert applied(review, draft_medication(), conditions=[], encounter=encounter) == [
            "opioid-without-screen"
        ]

    def test_a_non_opioid_says_nothing(self, review: Pathway) -> None:
        back_pain = categorised(LOW_BACK_PAIN, "problem-list-item")
        assert applied(review, draft_medication("387207008"), conditions=[back_pain]) == []


class TestReferralMatch:
    def test_physiotherapy_for_low_risk_warns(self, review: Pathway) -> None:
        order = draft_service_request(PHYSIO_REFERRAL)
        assert applied(review, order, start_back=start_back(RiskGroup.LOW)) == ["referral-low-risk"]

    def test_physiotherapy_for_medium_risk_is_the_match(self, review: Pathway) -> None:
        order = draft_service_request(PHYSIO_REFERRAL)
        assert applied(review, order, start_back=start_back(RiskGroup.MEDIUM)) == []

    def test_plain_physiotherapy_for_high_risk_offers_the_matched_referral(
        self, review: Pathway, new_uuid: SequentialUuids
    ) -> None:
        facts = workflow(hook="order-sign", draft_orders=(draft_service_request(PHYSIO_REFERRAL),))
        (card,) = review.apply(inputs(workflow=facts, start_back=start_back(RiskGroup.HIGH)), new_uuid)
        assert card.indicator == "warning"
        (suggestion,) = card.suggestions or []
        (action,) = suggestion.actions or []
        assert action.resource is not None
        codes = {c["code"] for c in action.resource["code"]["coding"]}
        assert PIPT in codes

    def test_psychologically_informed_physiotherapy_for_high_risk_is_the_match(self, review: Pathway) -> None:
        order = draft_service_request(PIPT, system=ORDERS)
        assert applied(review, order, start_back=start_back(RiskGroup.HIGH)) == []


class TestDraftOrdersCountAsExistingReferrals:
    def test_a_matching_draft_in_the_session_is_named_and_not_offered_again(
        self, review: Pathway, new_uuid: SequentialUuids
    ) -> None:
        matched = draft_service_request(PIPT, system=ORDERS, order_id="matched")
        matched["code"]["coding"].insert(0, {"system": SNOMED, "code": PHYSIO_REFERRAL})
        orders = (draft_service_request(PHYSIO_REFERRAL, order_id="plain"), matched)
        facts = workflow(hook="order-sign", draft_orders=orders)
        applied_actions = review.evaluate(inputs(workflow=facts, start_back=start_back(RiskGroup.HIGH)))
        (action,) = applied_actions
        assert action.proposed_request is None
        assert action.existing_request is not None
        assert action.existing_request["id"] == "matched"  # undated, yet it counts: it is being ordered now
        (card,) = review.apply(inputs(workflow=facts, start_back=start_back(RiskGroup.HIGH)), new_uuid)
        assert card.suggestions is None


def selected(
    review: Pathway, orders: tuple[dict[str, object], ...], *chosen: str, **overrides: object
) -> list[str]:
    """The actions for order-select with ``chosen`` (``Type/id``) as its selections."""
    facts = workflow(hook="order-select", draft_orders=orders, selections=chosen)
    return [action.spec.id for action in review.evaluate(inputs(workflow=facts, **overrides))]


class TestSelections:
    """order-select: the card is about the orders just selected; the rest of draftOrders is context."""

    def test_lumbar_imaging_just_selected_warns(self, review: Pathway) -> None:
        orders = (draft_service_request(MRI_LUMBAR, order_id="mri"), draft_medication("387207008"))
        assert selected(review, orders, "ServiceRequest/mri") == ["imaging-without-screen"]

    def test_imaging_already_in_the_basket_is_not_warned_about_again(self, review: Pathway) -> None:
        orders = (
            draft_service_request(MRI_LUMBAR, order_id="mri"),
            draft_service_request("241641004", order_id="knee"),  # MRI of knee, just selected
        )
        assert selected(review, orders, "ServiceRequest/knee") == []

    def test_a_physiotherapy_referral_not_selected_does_not_trigger_the_risk_mismatch(
        self, review: Pathway
    ) -> None:
        orders = (draft_service_request(PHYSIO_REFERRAL, order_id="physio"), draft_medication("387207008"))
        low = start_back(RiskGroup.LOW)
        assert selected(review, orders, "MedicationRequest/draft-med", start_back=low) == []
        assert selected(review, orders, "ServiceRequest/physio", start_back=low) == ["referral-low-risk"]

    def test_a_matched_referral_among_the_other_draft_orders_counts_as_existing(
        self, review: Pathway, new_uuid: SequentialUuids
    ) -> None:
        matched = draft_service_request(PIPT, system=ORDERS, order_id="pipt")
        matched["code"]["coding"].insert(0, {"system": SNOMED, "code": PHYSIO_REFERRAL})
        orders = (draft_service_request(PHYSIO_REFERRAL, order_id="plain"), matched)
        facts = workflow(hook="order-select", draft_orders=orders, selections=("ServiceRequest/plain",))
        high = inputs(workflow=facts, start_back=start_back(RiskGroup.HIGH))
        (action,) = review.evaluate(high)
        assert action.spec.id == "referral-high-risk-plain-physiotherapy"
        assert action.existing_request is not None
        assert action.existing_request["id"] == "pipt"
        (card,) = review.apply(high, new_uuid)
        assert card.suggestions is None

    def test_a_screening_order_already_among_the_draft_orders_is_not_offered_again(
        self, review: Pathway, new_uuid: SequentialUuids
    ) -> None:
        screen = draft_service_request("start-back-screening", system=ORDERS, order_id="screen")
        orders = (draft_service_request(MRI_LUMBAR, order_id="mri"), screen)
        facts = workflow(hook="order-select", draft_orders=orders, selections=("ServiceRequest/mri",))
        (card,) = review.apply(inputs(workflow=facts), new_uuid)
        assert card.suggestions is None
        assert "imaging" in card.summary.lower()

    def test_order_sign_reviews_every_draft_order(self, review: Pathway) -> None:
        orders = (draft_service_request("241641004", order_id="knee"), draft_service_request(MRI_LUMBAR))
        assert applied(review, *orders) == ["imaging-without-screen"]


class TestCodesOfRealOrders:
    """Orders as EHRs send them: LOINC imaging orderables, RxNorm products with their ingredients."""

    def test_a_loinc_lumbar_xray_order_warns(self, review: Pathway) -> None:
        assert applied(review, draft_service_request(XR_LUMBAR_LOINC, system=LOINC)) == [
            "imaging-without-screen"
        ]

    def test_a_loinc_order_for_another_body_part_says_nothing(self, review: Pathway) -> None:
        # 24590-2 MR Brain: same code system, not the lumbar spine
        assert applied(review, draft_service_request("24590-2", system=LOINC)) == []

    def test_an_rxnorm_product_matches_by_its_opioid_ingredient(self, review: Pathway) -> None:
        order = rxnorm_product_order((("161", "acetaminophen"), ("7804", "oxycodone")))
        back_pain = categorised(LOW_BACK_PAIN, "problem-list-item")
        assert applied(review, order, conditions=[back_pain]) == ["opioid-without-screen"]

    def test_a_product_with_no_opioid_ingredient_says_nothing(self, review: Pathway) -> None:
        order = rxnorm_product_order((("161", "acetaminophen"),))
        back_pain = categorised(LOW_BACK_PAIN, "problem-list-item")
        assert applied(review, order, conditions=[back_pain]) == []

    def test_a_product_code_alone_is_not_an_ingredient(self, review: Pathway) -> None:
        """No RxNorm relationships are shipped: an SBD without ingredient codings is not recognised."""
        back_pain = categorised(LOW_BACK_PAIN, "problem-list-item")
        assert applied(review, rxnorm_product_order(None), conditions=[back_pain]) == []

    def test_an_ingredient_coding_beside_the_product_code_matches(self, review: Pathway) -> None:
        order = rxnorm_product_order(None)
        order["medicationCodeableConcept"]["coding"].append({"system": RXNORM, "code": "10689"})
        back_pain = categorised(LOW_BACK_PAIN, "problem-list-item")
        assert applied(review, order, conditions=[back_pain]) == ["opioid-without-screen"]

    def test_a_reference_to_a_medication_that_is_not_contained_is_not_followed(self, review: Pathway) -> None:
        order = rxnorm_product_order((("7804", "oxycodone"),))
        order["medicationReference"] = {"reference": "Medication/elsewhere"}
        back_pain = categorised(LOW_BACK_PAIN, "problem-list-item")
        assert applied(review, order, conditions=[back_pain]) == []
