"""Screens belong to an episode: only a screen within the pathway's window gives a risk or a referral.

Dates as real servers give them: a full instant, a partial authored date, no authored but meta.lastUpdated,
or no date at all. The clock is the NOW of the factories (20 November 2026, 10:00 UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stratcare.cdshooks.models import Card
from stratcare.instruments.results import Chronicity, ScreenDate
from stratcare.pathways import Pathway
from support.instrument_results import RiskGroup

from .factories import (
    CAUDA_EQUINA,
    LOW_BACK_PAIN,
    ORDERS,
    SequentialUuids,
    condition,
    inputs,
    nih,
    service_request,
    start_back,
    start_back_rejected,
)

SCREENING_ORDER = (ORDERS, "start-back-screening")
RISK_WORDS = ("low risk", "medium risk", "high risk")


def authored(instant: datetime, precision: str = "time") -> ScreenDate:
    return ScreenDate(instant, precision, "authored")  # type: ignore[arg-type]


def last_updated(instant: datetime) -> ScreenDate:
    return ScreenDate(instant, "time", "lastUpdated")


IN_2021 = authored(datetime(2021, 3, 3, 8, 30, tzinfo=UTC))
FOUR_WEEKS_AGO = authored(datetime(2026, 10, 23, 9, 0, tzinfo=UTC))  # 28 days before NOW
FIVE_WEEKS_AGO = authored(datetime(2026, 10, 16, 9, 0, tzinfo=UTC))


def cards_for(pathway: Pathway, **given: object) -> list[Card]:
    return pathway.apply(inputs(**given), SequentialUuids())


def only_card(pathway: Pathway, **given: object) -> Card:
    [card] = cards_for(pathway, **given)
    return card


def names_a_risk(card: Card) -> bool:
    text = f"{card.summary}\n{card.detail}".lower()
    return any(words in text for words in RISK_WORDS)


class TestOutOfDateScreen:
    @pytest.mark.parametrize("risk", list(RiskGroup))
    def test_a_2021_screen_gives_no_risk_and_asks_for_a_new_one(
        self, pathway: Pathway, risk: RiskGroup
    ) -> None:
        card = only_card(pathway, start_back=start_back(risk, dated=IN_2021))
        assert card.summary == "STarT Back screen out of date or undated: ask for a new screen"
        assert not names_a_risk(card)
        [suggestion] = card.suggestions or []
        resource = suggestion.actions[0].resource  # type: ignore[index]
        assert resource is not None
        assert [(c["system"], c["code"]) for c in resource["code"]["coding"]] == [SCREENING_ORDER]

    def test_the_card_says_when_the_last_screen_was(self, pathway: Pathway) -> None:
        card = only_card(pathway, start_back=start_back(RiskGroup.HIGH, dated=IN_2021))
        assert "Completed on 3 March 2021 (5 years ago)" in (card.detail or "")
        assert "older than the 28-day screening window" in (card.detail or "")

    def test_a_screen_exactly_at_the_window_is_current(self, pathway: Pathway) -> None:
        card = only_card(pathway, start_back=start_back(RiskGroup.MEDIUM, dated=FOUR_WEEKS_AGO))
        assert card.summary == "STarT Back medium risk: refer to physiotherapy"

    def test_a_screen_a_week_past_the_window_is_not(self, pathway: Pathway) -> None:
        card = only_card(pathway, start_back=start_back(RiskGroup.MEDIUM, dated=FIVE_WEEKS_AGO))
        assert card.summary.startswith("STarT Back screen out of date")
        assert "Completed on 16 October 2026 (5 weeks ago)" in (card.detail or "")

    def test_screening_is_offered_again_without_a_back_pain_condition(self, pathway: Pathway) -> None:
        card = only_card(pathway, start_back=start_back(RiskGroup.HIGH, dated=IN_2021), conditions=[])
        assert card.suggestions is not None

    def test_an_old_screening_order_does_not_stop_it_being_offered_again(self, pathway: Pathway) -> None:
        old_order = service_request("active", SCREENING_ORDER, authored_on="2021-03-01")
        card = only_card(
            pathway, start_back=start_back(RiskGroup.LOW, dated=IN_2021), service_requests=[old_order]
        )
        assert card.suggestions is not None

    def test_an_old_incomplete_screen_is_out_of_date_not_incomplete(self, pathway: Pathway) -> None:
        card = only_card(pathway, start_back=start_back_rejected(dated=IN_2021))
        assert card.summary.startswith("STarT Back screen out of date")

    def test_red_flags_still_win_over_an_out_of_date_screen(self, pathway: Pathway) -> None:
        given = {"start_back": start_back(RiskGroup.HIGH, dated=IN_2021)}
        card = only_card(pathway, conditions=[condition(LOW_BACK_PAIN), condition(CAUDA_EQUINA)], **given)
        assert card.indicator == "critical"


class TestDatingFallbacks:
    def test_a_month_only_authored_date_counts_from_the_first_of_the_month(self, pathway: Pathway) -> None:
        # "2026-11" could be any day in November: aged from 1 November it is 19 days old, still current.
        november = authored(datetime(2026, 11, 1, tzinfo=UTC), "month")
        card = only_card(pathway, start_back=start_back(RiskGroup.HIGH, dated=november))
        assert card.summary == "STarT Back high risk: refer to psychologically informed physiotherapy"
        assert "Completed in November 2026 (up to 19 days ago)" in (card.detail or "")

    def test_a_year_only_authored_date_is_not_current(self, pathway: Pathway) -> None:
        # "2026" is aged from 1 January: never mistaken for a screen of this episode.
        this_year = authored(datetime(2026, 1, 1, tzinfo=UTC), "year")
        card = only_card(pathway, start_back=start_back(RiskGroup.HIGH, dated=this_year))
        assert card.summary.startswith("STarT Back screen out of date")
        assert "Completed in 2026" in (card.detail or "")

    def test_without_authored_the_last_update_dates_the_screen(self, pathway: Pathway) -> None:
        stored = last_updated(datetime(2026, 11, 18, 16, 0, tzinfo=UTC))
        card = only_card(pathway, start_back=start_back(RiskGroup.LOW, dated=stored))
        assert card.summary == "STarT Back low risk: advice and self-management, no referral"
        assert "the date the record was last updated" in (card.detail or "")

    def test_an_old_last_update_is_out_of_date(self, pathway: Pathway) -> None:
        stored = last_updated(datetime(2024, 6, 2, tzinfo=UTC))
        card = only_card(pathway, start_back=start_back(RiskGroup.HIGH, dated=stored))
        assert card.summary.startswith("STarT Back screen out of date")

    def test_an_undated_screen_is_not_used_and_the_card_says_why(self, pathway: Pathway) -> None:
        card = only_card(pathway, start_back=start_back(RiskGroup.HIGH, dated=None))
        assert card.summary.startswith("STarT Back screen out of date or undated")
        assert not names_a_risk(card)
        assert "The response has no date" in (card.detail or "")
        assert "it cannot be dated reliably, so it is not used" in (card.detail or "")

    def test_a_screen_dated_years_ahead_is_not_used(self, pathway: Pathway) -> None:
        future = authored(datetime(2030, 1, 1, tzinfo=UTC))
        card = only_card(pathway, start_back=start_back(RiskGroup.HIGH, dated=future))
        assert card.suggestions is not None
        assert card.summary.startswith("STarT Back screen out of date or undated")
        assert "which is in the future" in (card.detail or "")

    def test_a_screen_dated_minutes_ahead_is_clock_drift(self, pathway: Pathway) -> None:
        ahead = authored(datetime(2026, 11, 20, 10, 5, tzinfo=UTC))
        card = only_card(pathway, start_back=start_back(RiskGroup.LOW, dated=ahead))
        assert card.summary.startswith("STarT Back low risk")


class TestNihScreenDating:
    def test_an_old_chronic_nih_screen_does_not_count_as_chronic(self, acute_only_pathway: Pathway) -> None:
        card = only_card(
            acute_only_pathway,
            start_back=start_back(RiskGroup.HIGH),
            nih=nih(Chronicity.CHRONIC, dated=IN_2021),
        )
        assert card.summary.startswith("Pain duration not known")

    def test_an_old_acute_nih_screen_is_not_read_as_acute(self, acute_only_pathway: Pathway) -> None:
        card = only_card(
            acute_only_pathway,
            start_back=start_back(RiskGroup.HIGH),
            nih=nih(Chronicity.ACUTE, dated=IN_2021),
        )
        assert card.suggestions is None
        assert "NIH chronic low back pain screen: Completed on 3 March 2021" in (card.detail or "")

    def test_an_undated_nih_screen_is_reported_as_not_used(self, pathway: Pathway) -> None:
        card = only_card(
            pathway, start_back=start_back(RiskGroup.MEDIUM), nih=nih(Chronicity.ACUTE, dated=None)
        )
        assert "NIH chronic low back pain screen: The response has no date" in (card.detail or "")
