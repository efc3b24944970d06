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
    MRI_LUMBAR,
    ORDER_REVIEW,
    categorised,
    draft_medication,
    draft_service_request,
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
        (action,) = suggestion.actions
        assert action.type == "create"
        assert action.resource is not None
        assert action.resource["code"]["coding"][0]["code"] == "start-back-screening"

    def test_the_card_never_suggests_deleting_an_order(
        self, review: Pathway, new_uuid: SequentialUuids
    ) -> None:
        facts = workflow(hook="order-sign", draft_orders=(draft_service_request(MRI_LUMBAR),))
        cards = review.apply(inputs(workflow=facts), new_uuid)
        assert all(a.type != "delete" for c in cards for s in c.suggestions or [] for a in s.actions)

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
        assert suggestion.actions[0].resource is not None
        codes = {c["code"] for c in suggestion.actions[0].resource["code"]["coding"]}
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
