"""The summary names the STarT Back risk group in words exactly when a risk was computed."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from stratcare.instruments.results import Chronicity, ScreenDate
from stratcare.pathways import Pathway, PathwayContentError, PathwayInputs
from stratcare.pathways.summary import MAX_SUMMARY_LENGTH, NamedRisk, card_summary
from support.instrument_results import RiskGroup

from .factories import (
    CAUDA_EQUINA,
    LOW_BACK_PAIN,
    SequentialUuids,
    condition,
    inputs,
    nih,
    risk_group,
    service_request,
    start_back,
    start_back_rejected,
)

IN_2021 = ScreenDate(datetime(2021, 3, 3, tzinfo=UTC), "day", "authored")


def named(risk: RiskGroup) -> NamedRisk:
    return NamedRisk("STarT Back", f"{risk.value.capitalize()} risk", risk.value, BANDS)


BANDS = ("High risk", "Medium risk", "Low risk")
RISK_WORDS = re.compile(r"\b(low|medium|high) risk\b", re.IGNORECASE)
RED_FLAG = [condition(LOW_BACK_PAIN), condition(CAUDA_EQUINA)]
EXISTING_PHYSIO = [service_request("active", ("http://snomed.info/sct", "308447003"))]

SCENARIOS: dict[str, PathwayInputs] = {
    "screening due": inputs(),
    "screen refused": inputs(start_back=start_back_rejected()),
    "red flag, no screen": inputs(conditions=RED_FLAG),
    "red flag, refused screen": inputs(conditions=RED_FLAG, start_back=start_back_rejected()),
    "chronic, no screen": inputs(nih=nih(Chronicity.CHRONIC)),
    "low": inputs(start_back=start_back(RiskGroup.LOW)),
    "medium": inputs(start_back=start_back(RiskGroup.MEDIUM)),
    "high": inputs(start_back=start_back(RiskGroup.HIGH)),
    "medium, referral exists": inputs(
        start_back=start_back(RiskGroup.MEDIUM), service_requests=EXISTING_PHYSIO
    ),
    "red flag, high": inputs(conditions=RED_FLAG, start_back=start_back(RiskGroup.HIGH)),
    "chronic, low": inputs(nih=nih(Chronicity.CHRONIC), start_back=start_back(RiskGroup.LOW)),
    "chronic, medium": inputs(nih=nih(Chronicity.CHRONIC), start_back=start_back(RiskGroup.MEDIUM)),
    "high, out of date": inputs(start_back=start_back(RiskGroup.HIGH, dated=IN_2021)),
    "high, undated": inputs(start_back=start_back(RiskGroup.HIGH, dated=None)),
    "red flag, high, out of date": inputs(
        conditions=RED_FLAG, start_back=start_back(RiskGroup.HIGH, dated=IN_2021)
    ),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_summary_names_the_risk_group_iff_computed_from_a_current_screen(
    pathway: Pathway, scenario: str
) -> None:
    given = SCENARIOS[scenario]
    cards = pathway.apply(given, SequentialUuids())
    assert cards, "every scenario gives a card"
    score = risk_group(given)
    current = score is not None and "out of date" not in scenario and "undated" not in scenario
    # Red flags take precedence over stratified care: that card never names a risk in its summary.
    named_in_summary = current and "red flag" not in scenario
    for card in cards:
        named = {match.lower() for match in RISK_WORDS.findall(card.summary)}
        assert named == ({score} if score and named_in_summary else set()), card.summary
        risk = pathway.current_risk(given)
        assert (risk.value if risk else None) == (score if score and current else None)
        assert len(card.summary) < 140


def test_the_red_flag_card_names_no_risk_but_lists_the_screen(pathway: Pathway) -> None:
    [card] = pathway.apply(SCENARIOS["red flag, high"], SequentialUuids())
    assert card.indicator == "critical"
    assert not RISK_WORDS.search(card.summary), card.summary
    assert "High risk" in (card.detail or "")


def test_summary_says_when_a_referral_already_exists(pathway: Pathway) -> None:
    [card] = pathway.apply(SCENARIOS["medium, referral exists"], SequentialUuids())
    assert card.summary.endswith("; already ordered")


class TestCardSummary:
    def test_title_naming_the_risk_is_kept(self) -> None:
        assert (
            card_summary("STarT Back low risk: advice", named(RiskGroup.LOW)) == "STarT Back low risk: advice"
        )

    def test_risk_is_appended_when_the_title_omits_it(self) -> None:
        summary = card_summary("Red flag: assess urgently", named(RiskGroup.HIGH))
        assert summary == "Red flag: assess urgently (STarT Back high risk)"

    def test_title_naming_another_risk_raises(self) -> None:
        with pytest.raises(PathwayContentError, match="other than medium"):
            card_summary("STarT Back high risk: refer", named(RiskGroup.MEDIUM))

    def test_title_naming_a_risk_when_none_was_computed_raises(self) -> None:
        with pytest.raises(PathwayContentError, match="no risk was computed"):
            card_summary("Low risk: advice", None)

    def test_no_risk_wording_is_added_without_a_score(self) -> None:
        assert card_summary("STarT Back screening is due", None) == "STarT Back screening is due"

    def test_too_long_a_summary_raises(self) -> None:
        with pytest.raises(PathwayContentError, match="longer than"):
            card_summary("x" * (MAX_SUMMARY_LENGTH - 5), named(RiskGroup.LOW))
