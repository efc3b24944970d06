"""Every path of the default STarT Back pathway, driven by the real PlanDefinition."""

from __future__ import annotations

from stratcare.cdshooks.models import Card
from stratcare.instruments.results import Chronicity
from stratcare.pathways import Pathway, PathwayInputs
from support.instrument_results import RiskGroup

from .factories import (
    CAUDA_EQUINA,
    LOW_BACK_PAIN,
    ORDERS,
    PHYSIO_REFERRAL,
    PIPT,
    SequentialUuids,
    condition,
    inputs,
    nih,
    nih_rejected,
    service_request,
    start_back,
    start_back_rejected,
)

LEAFLET = "https://startback.hfac.keele.ac.uk/patients/"
KEELE_TOOL = "https://startback.hfac.keele.ac.uk/"
NICE_NG59 = "https://www.nice.org.uk/guidance/ng59"
SCREENING_ORDER = (ORDERS, "start-back-screening")


def cards_for(pathway: Pathway, given: PathwayInputs) -> list[Card]:
    return pathway.apply(given, SequentialUuids())


def created_codes(card: Card) -> set[tuple[str, str]]:
    assert card.suggestions is not None
    resource = card.suggestions[0].actions[0].resource  # type: ignore[index]
    assert resource is not None
    return {(c["system"], c["code"]) for c in resource["code"]["coding"]}


def link_urls(card: Card) -> list[str]:
    return [link.url for link in card.links or []]


class TestRedFlag:
    def test_red_flag_gives_one_critical_card(self, pathway: Pathway) -> None:
        given = inputs(conditions=[condition(LOW_BACK_PAIN), condition(CAUDA_EQUINA)])
        [card] = cards_for(pathway, given)
        assert card.indicator == "critical"
        assert card.summary.startswith("Red-flag condition recorded")
        assert card.suggestions is None

    def test_red_flag_suppresses_the_high_risk_referral(self, pathway: Pathway) -> None:
        given = inputs(
            start_back=start_back(RiskGroup.HIGH),
            conditions=[condition(LOW_BACK_PAIN), condition(CAUDA_EQUINA)],
        )
        [card] = cards_for(pathway, given)
        assert card.indicator == "critical"
        assert card.suggestions is None

    def test_red_flag_suppresses_the_chronic_pain_card(self, pathway: Pathway) -> None:
        given = inputs(nih=nih(Chronicity.CHRONIC), conditions=[condition(CAUDA_EQUINA)])
        [card] = cards_for(pathway, given)
        assert card.indicator == "critical"

    def test_icd10_cm_red_flag_is_recognised(self, pathway: Pathway) -> None:
        discitis = condition("M46.36", system="http://hl7.org/fhir/sid/icd-10-cm")
        [card] = cards_for(pathway, inputs(start_back=start_back(RiskGroup.MEDIUM), conditions=[discitis]))
        assert card.indicator == "critical"

    def test_resolved_red_flag_does_not_suppress_care(self, pathway: Pathway) -> None:
        resolved = condition(CAUDA_EQUINA, clinical_status="resolved")
        given = inputs(start_back=start_back(RiskGroup.MEDIUM), conditions=[resolved])
        [card] = cards_for(pathway, given)
        assert card.suggestions is not None

    def test_red_flag_entered_in_error_is_ignored(self, pathway: Pathway) -> None:
        wrong = condition(CAUDA_EQUINA, verification_status="entered-in-error")
        [card] = cards_for(pathway, inputs(start_back=start_back(RiskGroup.LOW), conditions=[wrong]))
        assert card.indicator == "info"

    def test_suspected_red_flag_counts(self, pathway: Pathway) -> None:
        suspected = condition(CAUDA_EQUINA, verification_status="provisional")
        [card] = cards_for(pathway, inputs(conditions=[suspected]))
        assert card.indicator == "critical"


class TestChronicPain:
    """NICE NG59 by default: chronic pain is stratified too. Acute-only (TARGET) is a pathway setting."""

    def test_chronic_high_risk_is_offered_pipt_and_the_ng59_combined_programme(
        self, pathway: Pathway
    ) -> None:
        given = inputs(nih=nih(Chronicity.CHRONIC), start_back=start_back(RiskGroup.HIGH))
        [card, programme] = cards_for(pathway, given)
        assert card.indicator == "warning"
        assert created_codes(card) == {("http://snomed.info/sct", PHYSIO_REFERRAL), (ORDERS, PIPT)}
        assert "combined physical and psychological programme" in (card.detail or "")
        assert programme.indicator == "info"
        assert created_codes(programme) == {(ORDERS, "combined-physical-psychological-programme")}

    def test_acute_high_risk_is_not_offered_the_combined_programme(self, pathway: Pathway) -> None:
        given = inputs(nih=nih(Chronicity.ACUTE), start_back=start_back(RiskGroup.HIGH))
        [card] = cards_for(pathway, given)
        assert created_codes(card) == {("http://snomed.info/sct", PHYSIO_REFERRAL), (ORDERS, PIPT)}

    def test_chronic_medium_risk_is_referred_to_physiotherapy(self, pathway: Pathway) -> None:
        given = inputs(nih=nih(Chronicity.CHRONIC), start_back=start_back(RiskGroup.MEDIUM))
        [card] = cards_for(pathway, given)
        assert created_codes(card) == {("http://snomed.info/sct", PHYSIO_REFERRAL)}

    def test_chronic_without_a_screen_is_offered_screening(self, pathway: Pathway) -> None:
        [card] = cards_for(pathway, inputs(nih=nih(Chronicity.CHRONIC)))
        assert card.summary == "STarT Back screening is due"

    def test_acute_only_chronic_nih_gives_info_card_without_referral(
        self, acute_only_pathway: Pathway
    ) -> None:
        given = inputs(nih=nih(Chronicity.CHRONIC), start_back=start_back(RiskGroup.HIGH))
        [card] = cards_for(acute_only_pathway, given)
        assert card.indicator == "info"
        assert card.summary.startswith("Chronic low back pain")
        assert card.suggestions is None

    def test_acute_only_chronic_nih_replaces_screening_due(self, acute_only_pathway: Pathway) -> None:
        [card] = cards_for(acute_only_pathway, inputs(nih=nih(Chronicity.CHRONIC)))
        assert card.summary.startswith("Chronic low back pain")

    def test_acute_nih_leaves_the_referral_in_place(
        self, pathway: Pathway, acute_only_pathway: Pathway
    ) -> None:
        given = inputs(nih=nih(Chronicity.ACUTE), start_back=start_back(RiskGroup.HIGH))
        for each in (pathway, acute_only_pathway):
            [card] = cards_for(each, given)
            assert card.suggestions is not None

    def test_refused_nih_screen_is_reported_and_not_needed_by_default(self, pathway: Pathway) -> None:
        given = inputs(nih=nih_rejected(), start_back=start_back(RiskGroup.MEDIUM))
        [card] = cards_for(pathway, given)
        assert card.suggestions is not None
        assert "NIH chronic low back pain screen: not scored" in (card.detail or "")
        assert "whether the pain is chronic is not known" in (card.detail or "")


class TestScreening:
    def test_back_pain_without_response_says_screening_is_due(self, pathway: Pathway) -> None:
        [card] = cards_for(pathway, inputs())
        assert card.summary == "STarT Back screening is due"
        assert card.indicator == "info"
        assert link_urls(card) == []  # the tool's page is the card source; the screen itself is linked
        assert card.source.url == KEELE_TOOL  # by SMART launch when configured (test_screen_links)
        assert created_codes(card) == {SCREENING_ORDER}

    def test_screening_is_not_ordered_twice(self, pathway: Pathway) -> None:
        open_order = service_request("active", SCREENING_ORDER)
        [card] = cards_for(pathway, inputs(service_requests=[open_order]))
        assert card.summary == "STarT Back screening is due; already ordered"
        assert card.suggestions is None

    def test_no_back_pain_and_no_response_gives_no_card(self, pathway: Pathway) -> None:
        assert cards_for(pathway, inputs(conditions=[])) == []

    def test_inactive_back_pain_does_not_make_screening_due(self, pathway: Pathway) -> None:
        given = inputs(conditions=[condition(LOW_BACK_PAIN, clinical_status="resolved")])
        assert cards_for(pathway, given) == []

    def test_refused_response_gives_incomplete_card_with_reasons(self, pathway: Pathway) -> None:
        reasons = ("question 3 is not answered", "question 9 is not answered")
        [card] = cards_for(pathway, inputs(start_back=start_back_rejected(*reasons)))
        assert card.summary.startswith("STarT Back screen incomplete or invalid")
        assert created_codes(card) == {SCREENING_ORDER}
        assert "question 3 is not answered; question 9 is not answered" in (card.detail or "")
        assert "Answered on 20 November 2026 (today)" in (card.detail or "")
        assert link_urls(card) == []


class TestRiskGroups:
    def test_low_risk_gives_advice_and_leaflet_without_referral(self, pathway: Pathway) -> None:
        [card] = cards_for(pathway, inputs(start_back=start_back(RiskGroup.LOW)))
        assert card.indicator == "info"
        assert card.suggestions is None
        assert card.selectionBehavior is None
        assert link_urls(card) == [LEAFLET, NICE_NG59]

    def test_medium_risk_suggests_physiotherapy(self, pathway: Pathway) -> None:
        [card] = cards_for(pathway, inputs(start_back=start_back(RiskGroup.MEDIUM)))
        assert card.indicator == "info"
        assert created_codes(card) == {("http://snomed.info/sct", PHYSIO_REFERRAL)}
        assert card.selectionBehavior == "at-most-one"

    def test_high_risk_suggests_psychologically_informed_physiotherapy(self, pathway: Pathway) -> None:
        [card] = cards_for(pathway, inputs(start_back=start_back(RiskGroup.HIGH)))
        assert card.indicator == "warning"
        assert created_codes(card) == {("http://snomed.info/sct", PHYSIO_REFERRAL), (ORDERS, PIPT)}

    def test_risk_card_applies_without_a_back_pain_condition(self, pathway: Pathway) -> None:
        [card] = cards_for(pathway, inputs(start_back=start_back(RiskGroup.HIGH), conditions=[]))
        assert card.suggestions is not None

    def test_detail_shows_scores_and_their_response(self, pathway: Pathway) -> None:
        given = inputs(start_back=start_back(RiskGroup.MEDIUM), nih=nih(Chronicity.ACUTE))
        [card] = cards_for(pathway, given)
        detail = card.detail or ""
        assert "STarT Back 5/9, psychosocial subscale 2/5: Medium risk" in detail
        assert "Medium risk. Completed on 20 November 2026 (today)." in detail
        assert "NIH chronic low back pain screen: Acute or subacute low back pain" in detail
        assert "QuestionnaireResponse" not in detail
        assert detail.startswith("Medium risk of persistent disabling back pain.")

    def test_card_source_comes_from_the_plan_definition(self, pathway: Pathway) -> None:
        [card] = cards_for(pathway, inputs(start_back=start_back(RiskGroup.LOW)))
        assert card.source.label == "STarT Back stratified care"
        assert card.source.url == "https://startback.hfac.keele.ac.uk/"
        assert card.source.topic is not None
        assert card.source.topic.code == LOW_BACK_PAIN
