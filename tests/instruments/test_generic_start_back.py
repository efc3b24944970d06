"""STarT Back through the generic weighted-sum path: all 1,280 answer sets, against the published rule."""

from __future__ import annotations

import pytest

from instruments.responses import PATIENT_ID, START_BACK, nih_response, start_back_response
from instruments.test_start_back_scoring import ALL_ANSWER_SETS, expected
from stratcare.instruments.instrument_result import InstrumentResult
from stratcare.instruments.registry import InstrumentRegistry
from support.instrument_results import RiskGroup


def test_every_answer_set_scores_as_the_published_rule_says(registry: InstrumentRegistry) -> None:
    for codes in ALL_ANSWER_SETS:
        result = registry.score(start_back_response(codes), PATIENT_ID)
        assert isinstance(result, InstrumentResult), codes
        total, psychosocial, group = expected(codes)
        assert result.scores == {"total": total, "psychosocial": psychosocial}, codes
        assert result.band is not None
        assert result.band.band.code == f"{group.value}-risk", codes


def test_the_result_names_its_instrument_version_and_source(registry: InstrumentRegistry) -> None:
    result = registry.score(start_back_response(["agree"] * 8 + ["extremely"]), PATIENT_ID)
    assert isinstance(result, InstrumentResult)
    assert (result.instrument, result.version, result.key) == (START_BACK, "1.0.0", "startBack")
    assert result.source.reference == "QuestionnaireResponse/qr-1"
    assert result.band is not None
    assert result.band.qualitative_risk is not None
    assert result.band.qualitative_risk.code == "high"


@pytest.mark.parametrize(
    ("duration", "frequency", "band"),
    [("3-6m", "every-day", "chronic"), ("1-3m", "every-day", "acute"), ("gt-5y", "less-than-half", "acute")],
)
def test_nih_is_classified_by_its_small_module(
    registry: InstrumentRegistry, duration: str, frequency: str, band: str
) -> None:
    result = registry.score(nih_response(duration, frequency), PATIENT_ID)
    assert isinstance(result, InstrumentResult)
    assert result.band is not None
    assert result.band.band.code == band
    assert result.scores == {}


def test_legacy_risk_groups_are_the_band_codes() -> None:
    assert {f"{group.value}-risk" for group in RiskGroup} == {"low-risk", "medium-risk", "high-risk"}
