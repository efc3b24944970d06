"""Card text for clinicians: NICE NG59 advice, and no internal item ids, resource ids or status codes."""

from __future__ import annotations

import re

import pytest

from instruments.responses import start_back_response
from stratcare.content import ContentRepository
from stratcare.instruments import InstrumentRegistry, ResponseRejected
from stratcare.pathways import Pathway
from support.instrument_results import RiskGroup

from .factories import SequentialUuids, inputs, start_back

HIGH_RISK = ["agree"] * 8 + ["extremely"]
INTERNAL = re.compile(
    r"\bsb-\d|\bnih-(duration|frequency)|in-progress|entered-in-error|QuestionnaireResponse/"
)


@pytest.fixture(scope="module")
def catalog() -> InstrumentRegistry:
    return InstrumentRegistry.from_content(ContentRepository.load())


def refused(catalog: InstrumentRegistry, response: dict[str, object]) -> ResponseRejected:
    outcome = catalog.score(response, "p1")
    assert isinstance(outcome, ResponseRejected)
    return outcome


class TestLowRiskAdvice:
    def test_analgesia_and_imaging_follow_nice_ng59(self, pathway: Pathway) -> None:
        [card] = pathway.apply(inputs(start_back=start_back(RiskGroup.LOW)), SequentialUuids())
        detail = card.detail or ""
        assert "NSAID at the lowest effective dose for the shortest possible period" in detail
        assert "gastrointestinal, liver and cardio-renal toxicity" in detail
        assert "do not offer paracetamol alone" in detail
        assert "Do not routinely offer imaging" in detail
        assert "simple pain relief" not in detail  # the old wording suggested paracetamol


class TestNoInternalCodesOnCards:
    def test_a_missing_item_is_named_by_its_question(
        self, pathway: Pathway, catalog: InstrumentRegistry
    ) -> None:
        response = start_back_response(HIGH_RISK, id="qr-77", subject={"reference": "Patient/p1"})
        del response["item"][6]
        given = inputs(start_back=refused(catalog, response))
        [card] = pathway.apply(given, SequentialUuids())
        detail = card.detail or ""
        assert "question 7 (\u201cI feel that my back pain is terrible" in detail
        assert not INTERNAL.search(detail), detail

    def test_an_unfinished_screen_is_said_in_words(
        self, pathway: Pathway, catalog: InstrumentRegistry
    ) -> None:
        response = start_back_response(HIGH_RISK, status="in-progress", subject={"reference": "Patient/p1"})
        given = inputs(start_back=refused(catalog, response))
        [card] = pathway.apply(given, SequentialUuids())
        detail = card.detail or ""
        assert "it is still in progress (not submitted)" in detail
        assert not INTERNAL.search(detail), detail
        assert "status" not in detail.lower()
