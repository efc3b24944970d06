"""PHQ-9 (all 4^9 = 262,144 answer sets) and GAD-7 (all 4^7 = 16,384), each against an independent statement
of the published rule; the full validation path on a sample of each.

PHQ-9: Kroenke, Spitzer & Williams, J Gen Intern Med 2001. GAD-7: Spitzer et al., Arch Intern Med 2006.
The enumeration scores through the compiled Questionnaire weights (``Instrument.score_answers``), skipping
response validation, so that it stays fast; the sample goes through ``InstrumentRegistry.score``.
"""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from instruments.responses import (
    FREQUENCY,
    GAD7,
    GAD7_ITEMS,
    PATIENT_ID,
    PHQ9,
    PHQ9_ITEMS,
    frequency_response,
)
from stratcare.instruments.instrument_result import InstrumentResult
from stratcare.instruments.registry import Instrument, InstrumentRegistry
from stratcare.instruments.results import ResponseRejected, ResponseSource

SOURCE = ResponseSource(response_id="qr-1", version_id="1", questionnaire=PHQ9, authored=None)


def phq9_rule(points: tuple[int, ...]) -> tuple[int, str, bool]:
    """Total 0-27: 0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately severe, 20-27 severe.

    Flag: item 9 answered above "Not at all"."""
    total = sum(points)
    if total <= 4:
        severity = "minimal"
    elif total <= 9:
        severity = "mild"
    elif total <= 14:
        severity = "moderate"
    elif total <= 19:
        severity = "moderately-severe"
    else:
        severity = "severe"
    return total, severity, points[8] > 0


def gad7_rule(points: tuple[int, ...]) -> tuple[int, str]:
    """Total 0-21; 0-4 minimal, 5-9 mild, 10-14 moderate, 15-21 severe."""
    total = sum(points)
    severity = ["minimal", "mild", "moderate", "severe"][min(total // 5, 3)]
    return total, severity


def _instrument(registry: InstrumentRegistry, url: str) -> Instrument:
    instrument = registry.get(url)
    assert instrument is not None
    return instrument


def _band(result: InstrumentResult) -> str:
    assert result.band is not None
    return result.band.band.code


def test_all_262144_phq9_answer_sets(registry: InstrumentRegistry) -> None:
    phq9 = _instrument(registry, PHQ9)
    bands: Counter[str] = Counter()
    flagged = 0
    for points in itertools.product(range(4), repeat=9):
        answers = {link_id: FREQUENCY[point] for link_id, point in zip(PHQ9_ITEMS, points, strict=True)}
        result = phq9.score_answers(answers, SOURCE)
        total, severity, item_9_positive = phq9_rule(points)
        assert (result.scores["total"], _band(result)) == (total, severity), points
        assert ("self-harm-thoughts" in result.flags) is item_9_positive, points
        bands[severity] += 1
        flagged += item_9_positive
    assert sum(bands.values()) == 4**9
    assert flagged == 3 * 4**8  # every answer set whose item 9 is not "Not at all"


def test_all_16384_gad7_answer_sets(registry: InstrumentRegistry) -> None:
    gad7 = _instrument(registry, GAD7)
    count = 0
    for points in itertools.product(range(4), repeat=7):
        answers = {link_id: FREQUENCY[point] for link_id, point in zip(GAD7_ITEMS, points, strict=True)}
        result = gad7.score_answers(answers, SOURCE)
        assert (result.scores["total"], _band(result)) == gad7_rule(points), points
        assert result.flags == ()
        count += 1
    assert count == 16384


@pytest.mark.parametrize("index", range(0, 4**9, 4099))
def test_phq9_full_validation_path_on_a_sample(registry: InstrumentRegistry, index: int) -> None:
    points = tuple((index // 4**position) % 4 for position in range(9))
    result = registry.score(frequency_response(PHQ9, PHQ9_ITEMS, points), PATIENT_ID)
    assert isinstance(result, InstrumentResult)
    total, severity, item_9_positive = phq9_rule(points)
    assert (result.scores["total"], _band(result), "self-harm-thoughts" in result.flags) == (
        total,
        severity,
        item_9_positive,
    )


@pytest.mark.parametrize("index", range(0, 4**7, 257))
def test_gad7_full_validation_path_on_a_sample(registry: InstrumentRegistry, index: int) -> None:
    points = tuple((index // 4**position) % 4 for position in range(7))
    result = registry.score(frequency_response(GAD7, GAD7_ITEMS, points), PATIENT_ID)
    assert isinstance(result, InstrumentResult)
    assert (result.scores["total"], _band(result)) == gad7_rule(points)


def test_the_phq9_difficulty_item_is_optional_and_not_scored(registry: InstrumentRegistry) -> None:
    body = frequency_response(PHQ9, PHQ9_ITEMS, (3,) * 9)
    body["item"].append(
        {"linkId": "69722-7", "answer": [{"valueCoding": {"system": "http://loinc.org", "code": "LA6574-3"}}]}
    )
    result = registry.score(body, PATIENT_ID)
    assert isinstance(result, InstrumentResult)
    assert result.scores == {"total": 27}


def test_an_unanswered_phq9_item_is_refused_not_scored(registry: InstrumentRegistry) -> None:
    body = frequency_response(PHQ9, PHQ9_ITEMS, (0,) * 9)
    body["item"] = body["item"][:8]
    outcome = registry.score(body, PATIENT_ID)
    assert isinstance(outcome, ResponseRejected)
    assert outcome.reasons == (
        "question 9 (“Thoughts that you would be better off dead or of hurting yourself in some way”)"
        " is not answered",
    )


def test_the_item_9_flag_is_critical_and_never_for_system_actions(registry: InstrumentRegistry) -> None:
    [flag] = _instrument(registry, PHQ9).definition.flags
    assert (flag.name, flag.item, flag.minimum, flag.severity) == (
        "self-harm-thoughts",
        "44260-8",
        1,
        "critical",
    )
    assert flag.system_action_allowed is False
    assert "never be acted on by a system action" in flag.description
