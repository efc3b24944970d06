"""Who the pathway is for: the minimum age, chronicity from the problem list, and the referral scope."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stratcare.cdshooks.models import Card
from stratcare.instruments.results import Chronicity
from stratcare.pathways import Pathway
from stratcare.pathways.variables import age_years
from support.instrument_results import RiskGroup

from .factories import (
    CAUDA_EQUINA,
    LOW_BACK_PAIN,
    NOW,
    SequentialUuids,
    condition,
    inputs,
    nih,
    nih_rejected,
    start_back,
)

CHRONIC_LOW_BACK_PAIN = "278860009"


def patient(birth_date: str | None) -> dict[str, object]:
    resource: dict[str, object] = {"resourceType": "Patient", "id": "p1"}
    if birth_date is not None:
        resource["birthDate"] = birth_date
    return resource


def cards_for(pathway: Pathway, **given: object) -> list[Card]:
    return pathway.apply(inputs(**given), SequentialUuids())


class TestAgeInYears:
    @pytest.mark.parametrize(
        ("birth_date", "years"),
        [
            ("1970-05-14", 56),
            ("2010-11-20", 16),  # sixteenth birthday today
            ("2010-11-21", 15),  # tomorrow
            ("2010-11", 15),  # could be born as late as 30 November 2010
            ("2010", 15),  # could be born as late as 31 December 2010
            ("2016-03-02", 10),
        ],
    )
    def test_age_counts_from_the_latest_day_the_birth_date_allows(self, birth_date: str, years: int) -> None:
        assert age_years(patient(birth_date), NOW) == years

    @pytest.mark.parametrize("birth_date", [None, "unknown", "2010-13-01", "2030-01-01"])
    def test_no_usable_birth_date_gives_no_age(self, birth_date: str | None) -> None:
        assert age_years(patient(birth_date), NOW) is None

    def test_no_patient_gives_no_age(self) -> None:
        assert age_years(None, datetime(2026, 1, 1, tzinfo=UTC)) is None


class TestMinimumAge:
    @pytest.mark.parametrize("risk", list(RiskGroup))
    def test_a_ten_year_old_gets_no_card(self, pathway: Pathway, risk: RiskGroup) -> None:
        assert cards_for(pathway, patient=patient("2016-03-02"), start_back=start_back(risk)) == []

    def test_a_ten_year_old_with_back_pain_is_not_offered_screening(self, pathway: Pathway) -> None:
        assert cards_for(pathway, patient=patient("2016-03-02")) == []

    def test_a_sixteen_year_old_is_stratified(self, pathway: Pathway) -> None:
        [card] = cards_for(pathway, patient=patient("2010-11-20"), start_back=start_back(RiskGroup.HIGH))
        assert card.suggestions is not None

    def test_the_day_before_the_sixteenth_birthday_is_too_young(self, pathway: Pathway) -> None:
        assert cards_for(pathway, patient=patient("2010-11-21"), start_back=start_back(RiskGroup.HIGH)) == []

    def test_a_year_only_birth_date_is_not_taken_as_old_enough(self, pathway: Pathway) -> None:
        assert cards_for(pathway, patient=patient("2010"), start_back=start_back(RiskGroup.HIGH)) == []

    def test_red_flags_win_whatever_the_age(self, pathway: Pathway) -> None:
        given = {"conditions": [condition(CAUDA_EQUINA)], "start_back": start_back(RiskGroup.HIGH)}
        for birth_date in ("2016-03-02", None):
            [card] = cards_for(pathway, patient=patient(birth_date), **given)
            assert card.indicator == "critical"


class TestMissingBirthDate:
    def test_no_referral_and_a_card_asking_for_the_date_of_birth(self, pathway: Pathway) -> None:
        [card] = cards_for(pathway, patient=patient(None), start_back=start_back(RiskGroup.HIGH))
        assert card.summary.startswith("Date of birth not recorded: confirm the patient's age before")
        assert card.summary.endswith("(STarT Back high risk)")  # the current risk is known, not acted on
        assert card.suggestions is None

    def test_no_patient_resource_is_treated_as_no_birth_date(self, pathway: Pathway) -> None:
        [card] = cards_for(pathway, patient=None)
        assert card.summary.startswith("Date of birth not recorded")
        assert card.suggestions is None

    def test_no_card_without_a_screen_or_back_pain(self, pathway: Pathway) -> None:
        assert cards_for(pathway, patient=patient(None), conditions=[]) == []


class TestChronicLowBackPainCondition:
    def test_the_condition_brings_the_ng59_chronic_note_by_default(self, pathway: Pathway) -> None:
        given = {"conditions": [condition(CHRONIC_LOW_BACK_PAIN)], "start_back": start_back(RiskGroup.HIGH)}
        [card, programme] = cards_for(pathway, **given)
        assert card.summary.startswith("STarT Back high risk, chronic pain")
        assert "combined physical and psychological programme" in (card.detail or "")
        assert card.suggestions is not None
        assert programme.summary.endswith("consider a combined physical and psychological programme")
        assert programme.suggestions is not None

    def test_acute_only_the_condition_makes_the_pain_chronic(self, acute_only_pathway: Pathway) -> None:
        # Even with an acute NIH screen: the problem list says chronic, so no acute-only referral.
        given = {
            "conditions": [condition(CHRONIC_LOW_BACK_PAIN)],
            "start_back": start_back(RiskGroup.HIGH),
            "nih": nih(Chronicity.ACUTE),
        }
        [card] = cards_for(acute_only_pathway, **given)
        assert card.summary.startswith("Chronic low back pain")
        assert card.suggestions is None

    def test_a_resolved_chronic_condition_does_not_count(self, acute_only_pathway: Pathway) -> None:
        given = {
            "conditions": [condition(CHRONIC_LOW_BACK_PAIN, clinical_status="resolved")],
            "start_back": start_back(RiskGroup.MEDIUM),
            "nih": nih(Chronicity.ACUTE),
        }
        [card] = cards_for(acute_only_pathway, **given)
        assert card.suggestions is not None


class TestAcuteOnly:
    def test_an_incomplete_nih_screen_is_never_read_as_acute(self, acute_only_pathway: Pathway) -> None:
        given = {"start_back": start_back(RiskGroup.HIGH), "nih": nih_rejected()}
        [card] = cards_for(acute_only_pathway, **given)
        assert card.summary.startswith(
            "Pain duration not known: complete the NIH screen before a STarT Back referral"
        )
        assert card.suggestions is None
        assert "NIH chronic low back pain screen: not scored (question 2 is not answered" in (
            card.detail or ""
        )

    def test_no_nih_screen_gives_no_referral(self, acute_only_pathway: Pathway) -> None:
        [card] = cards_for(acute_only_pathway, start_back=start_back(RiskGroup.MEDIUM))
        assert card.summary.startswith("Pain duration not known")

    def test_red_flags_still_win(self, acute_only_pathway: Pathway) -> None:
        given = {
            "start_back": start_back(RiskGroup.HIGH),
            "conditions": [condition(LOW_BACK_PAIN), condition(CAUDA_EQUINA)],
        }
        [card] = cards_for(acute_only_pathway, **given)
        assert card.indicator == "critical"

    def test_by_default_no_nih_screen_is_needed(self, pathway: Pathway) -> None:
        [card] = cards_for(pathway, start_back=start_back(RiskGroup.MEDIUM))
        assert card.suggestions is not None
