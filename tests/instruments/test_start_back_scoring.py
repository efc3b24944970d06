"""Every one of the 1,280 STarT Back answer sets, scored through the shipped Questionnaire, against an
independent statement of Keele's published rule (Hill et al. 2008; Keele scoring guide)."""

from __future__ import annotations

import itertools

import pytest

from instruments.responses import PATIENT_ID, start_back_response
from stratcare.content import ContentRepository
from stratcare.instruments import InstrumentRegistry
from stratcare.instruments.instrument_result import InstrumentResult
from support.instrument_results import RiskGroup, risk_group_of

BINARY = ("agree", "disagree")
BOTHERSOME = ("not-at-all", "slightly", "moderately", "very-much", "extremely")
ALL_ANSWER_SETS = [
    list(binary) + [ninth] for binary in itertools.product(BINARY, repeat=8) for ninth in BOTHERSOME
]


def expected(codes: list[str]) -> tuple[int, int, RiskGroup]:
    """The rule as Keele states it, written out independently of the implementation."""
    points = [1 if answer == "agree" else 0 for answer in codes[:8]]
    points.append(1 if codes[8] in ("very-much", "extremely") else 0)
    total = sum(points)
    distress = points[4] + points[5] + points[6] + points[7] + points[8]
    if total <= 3:
        group = RiskGroup.LOW
    elif distress <= 3:
        group = RiskGroup.MEDIUM
    else:
        group = RiskGroup.HIGH
    return total, distress, group


@pytest.fixture(scope="module")
def catalog() -> InstrumentRegistry:
    return InstrumentRegistry.from_content(ContentRepository.load())


def test_there_are_1280_distinct_answer_sets() -> None:
    assert len({tuple(codes) for codes in ALL_ANSWER_SETS}) == 1280


def test_every_answer_set_scores_as_the_published_rule_says(catalog: InstrumentRegistry) -> None:
    groups: dict[RiskGroup, int] = dict.fromkeys(RiskGroup, 0)
    for codes in ALL_ANSWER_SETS:
        score = catalog.score(start_back_response(codes), PATIENT_ID)
        assert isinstance(score, InstrumentResult), codes
        assert (score.scores["total"], score.scores["psychosocial"], risk_group_of(score)) == expected(
            codes
        ), codes
        assert score.band is not None
        assert score.band.alias is not None
        groups[RiskGroup(score.band.alias)] += 1
    # Counted by hand from the rule (items 1-4 free; subscale sizes weighted by 3 non-scoring and 2 scoring
    # bothersomeness codes): high = 13 subscale combinations x 16 = 208; low = 45 + 154 + 130 + 24 = 353.
    assert groups == {RiskGroup.LOW: 353, RiskGroup.MEDIUM: 719, RiskGroup.HIGH: 208}


@pytest.mark.parametrize(
    ("codes", "total", "psychosocial", "group"),
    [
        (["disagree"] * 8 + ["not-at-all"], 0, 0, RiskGroup.LOW),
        (["agree"] * 3 + ["disagree"] * 5 + ["extremely"], 4, 1, RiskGroup.MEDIUM),
        (["agree"] * 4 + ["disagree"] * 4 + ["moderately"], 4, 0, RiskGroup.MEDIUM),
        (["disagree"] * 4 + ["agree"] * 3 + ["disagree"] + ["very-much"], 4, 4, RiskGroup.HIGH),
        (["agree"] * 4 + ["agree", "agree", "agree", "disagree"] + ["slightly"], 7, 3, RiskGroup.MEDIUM),
        (["agree"] * 8 + ["extremely"], 9, 5, RiskGroup.HIGH),
        # The circulating wrong subscale (items 1, 4, 7, 8, 9) would score 2 here; the published one scores 0.
        (
            [
                "agree",
                "disagree",
                "disagree",
                "agree",
                "disagree",
                "disagree",
                "disagree",
                "disagree",
                "slightly",
            ],
            2,
            0,
            RiskGroup.LOW,
        ),
        # "Total of 5 or more is high" is wrong: a total of 6 with a subscale of 2 is medium.
        (
            ["agree"] * 4 + ["agree", "agree"] + ["disagree", "disagree"] + ["not-at-all"],
            6,
            2,
            RiskGroup.MEDIUM,
        ),
    ],
)
def test_worked_examples(
    catalog: InstrumentRegistry, codes: list[str], total: int, psychosocial: int, group: RiskGroup
) -> None:
    score = catalog.score(start_back_response(codes), PATIENT_ID)
    assert isinstance(score, InstrumentResult)
    assert (score.scores["total"], score.scores["psychosocial"], risk_group_of(score)) == (
        total,
        psychosocial,
        group,
    )


def test_the_score_names_its_source_response(catalog: InstrumentRegistry) -> None:
    score = catalog.score(start_back_response(["agree"] * 8 + ["very-much"]), PATIENT_ID)
    assert isinstance(score, InstrumentResult)
    assert score.source.reference == "QuestionnaireResponse/qr-1"
    assert score.source.version_id == "3"
    assert score.version == "1.0.0"
    assert score.source.authored is not None
    assert score.source.authored.isoformat() == "2026-11-20T09:00:00+00:00"
