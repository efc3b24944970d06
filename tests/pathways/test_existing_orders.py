"""Only a recent open order suppresses a new referral, and the card names the order it found."""

from __future__ import annotations

import pytest

from stratcare.cdshooks.models import Card
from stratcare.pathways import Pathway
from support.instrument_results import RiskGroup

from .factories import PHYSIO_REFERRAL, SNOMED, SequentialUuids, inputs, service_request, start_back

PHYSIO = (SNOMED, PHYSIO_REFERRAL)


def medium_risk_card(pathway: Pathway, *orders: dict[str, object]) -> Card:
    given = inputs(start_back=start_back(RiskGroup.MEDIUM), service_requests=list(orders))
    [card] = pathway.apply(given, SequentialUuids())
    return card


def physio_order(status: str = "draft", **fields: object) -> dict[str, object]:
    order = service_request(status, PHYSIO, authored_on=None)
    order["code"]["text"] = "Referral to physiotherapy"
    order.update(fields)
    return order


class TestOrderWindow:
    def test_a_years_old_unsigned_draft_no_longer_suppresses_the_referral(self, pathway: Pathway) -> None:
        card = medium_risk_card(pathway, physio_order("draft", authoredOn="2022-02-11T10:00:00Z"))
        assert card.suggestions is not None
        assert not card.summary.endswith("already ordered")

    @pytest.mark.parametrize("status", ["draft", "active", "on-hold"])
    def test_a_recent_open_order_suppresses_it(self, pathway: Pathway, status: str) -> None:
        card = medium_risk_card(pathway, physio_order(status, authoredOn="2026-10-01"))
        assert card.suggestions is None
        assert card.summary.endswith("; already ordered")

    def test_the_window_edge(self, pathway: Pathway) -> None:
        # 84 days before 20 November 2026 is 28 August 2026.
        assert medium_risk_card(pathway, physio_order(authoredOn="2026-08-28T10:00:00Z")).suggestions is None
        assert medium_risk_card(pathway, physio_order(authoredOn="2026-08-27")).suggestions is not None

    def test_without_authored_on_the_last_update_dates_the_order(self, pathway: Pathway) -> None:
        recent = physio_order(meta={"lastUpdated": "2026-11-19T08:00:00.000+00:00"})
        old = physio_order(meta={"lastUpdated": "2023-05-01T08:00:00Z"})
        assert medium_risk_card(pathway, recent).suggestions is None
        assert medium_risk_card(pathway, old).suggestions is not None

    def test_an_order_that_cannot_be_dated_does_not_suppress(self, pathway: Pathway) -> None:
        assert medium_risk_card(pathway, physio_order()).suggestions is not None

    def test_a_recent_order_behind_an_old_one_is_still_found(self, pathway: Pathway) -> None:
        old = physio_order(id="old", authoredOn="2021-01-05")
        recent = physio_order("active", id="new", authoredOn="2026-11-02")
        card = medium_risk_card(pathway, old, recent)
        assert card.suggestions is None
        assert "ordered on 2 November 2026 (18 days ago)" in (card.detail or "")


class TestTheCardNamesTheOrder:
    def test_what_state_and_when(self, pathway: Pathway) -> None:
        card = medium_risk_card(pathway, physio_order("draft", authoredOn="2026-11-06T15:20:00Z"))
        assert (
            "A matching order already exists: Referral to physiotherapy "
            "(a draft not yet signed, ordered on 6 November 2026 (14 days ago))."
        ) in (card.detail or "")

    def test_status_codes_and_ids_stay_off_the_card(self, pathway: Pathway) -> None:
        card = medium_risk_card(pathway, physio_order("on-hold", id="sr-991", authoredOn="2026-11-10"))
        detail = card.detail or ""
        assert "(on hold, ordered on 10 November 2026" in detail
        assert "on-hold" not in detail
        assert "sr-991" not in detail
        assert "ServiceRequest" not in detail

    def test_an_order_without_text_is_named_by_its_coding_display(self, pathway: Pathway) -> None:
        order = service_request("active", PHYSIO)
        order["code"]["coding"][0]["display"] = "Referral to physiotherapist"
        card = medium_risk_card(pathway, order)
        assert "A matching order already exists: Referral to physiotherapist (active, ordered on" in (
            card.detail or ""
        )
