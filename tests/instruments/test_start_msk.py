"""Keele STarT MSK Tool: shipped without wording, offered only with a licensed site's wording file, scored
against an independent statement of the published rule (Dunn et al., Eur J Pain 2021; Hill et al., Lancet
Rheumatology 2022): total 0-12, low 0-4, medium 5-8, high 9-12. The banding of item 1 (pain 0-10) is the
provisional one stated in the Questionnaire's description, to be confirmed against Keele's scoring sheet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from instruments.responses import PATIENT_ID, START_MSK, start_msk_response
from stratcare.content import ContentRepository
from stratcare.instruments.instrument_result import InstrumentResult
from stratcare.instruments.registry import InstrumentRegistry
from stratcare.instruments.results import ResponseRejected


def published_rule(pain: int, yes: tuple[bool, ...]) -> tuple[int, str]:
    pain_points = 0 if pain <= 4 else 1 if pain <= 6 else 2 if pain <= 8 else 3
    total = pain_points + sum(yes)
    if total >= 9:
        return total, "high-risk"
    if total >= 5:
        return total, "medium-risk"
    return total, "low-risk"


@given(pain=st.integers(0, 10), yes=st.tuples(*[st.booleans()] * 9))
def test_scores_as_the_published_rule_says(
    licensed_registry: InstrumentRegistry, pain: int, yes: tuple[bool, ...]
) -> None:
    result = licensed_registry.score(start_msk_response(pain, yes), PATIENT_ID)
    assert isinstance(result, InstrumentResult)
    total, band = published_rule(pain, yes)
    assert result.scores == {"total": total}
    assert result.band is not None
    assert result.band.band.code == band
    assert 0 <= total <= 12


def test_every_total_from_0_to_12_is_reachable(licensed_registry: InstrumentRegistry) -> None:
    instrument = licensed_registry.get(START_MSK)
    assert instrument is not None
    weights = instrument.definition.weights
    assert max(weights["msk-1"].values()) + 9 == 12
    assert all(weights[f"msk-{number}"] == {"yes": 1, "no": 0} for number in range(2, 11))


def test_the_repository_ships_no_item_wording(content: ContentRepository) -> None:
    questionnaire = content.resolve("Questionnaire", START_MSK)
    assert [item.get("text") for item in questionnaire["item"]] == [None] * 10
    assert questionnaire["status"] == "draft"
    assert "to be confirmed against Keele's licensed scoring sheet" in questionnaire["description"]


def test_without_the_wording_file_the_tool_is_unavailable_not_an_error(registry: InstrumentRegistry) -> None:
    assert registry.get(START_MSK) is None
    reason = registry.unavailable[START_MSK].reason
    assert reason.startswith("The Keele STarT MSK Tool is unavailable: licensed wording not supplied")
    outcome = registry.score(start_msk_response(5, (True,) * 9), PATIENT_ID)
    assert isinstance(outcome, ResponseRejected)
    assert outcome.reasons == (reason,)


def test_the_wording_is_merged_into_the_offered_questionnaire(licensed_registry: InstrumentRegistry) -> None:
    instrument = licensed_registry.get(START_MSK)
    assert instrument is not None
    texts = [item["text"] for item in instrument.questionnaire["item"]]
    assert texts == [f"FAKE TEST WORDING for STarT MSK item {number}" for number in range(1, 11)]
    assert START_MSK not in licensed_registry.unavailable


@pytest.mark.parametrize(
    ("wording", "problem"),
    [
        ({f"msk-{number}": "x" for number in range(1, 10)}, "has no wording for ['msk-10']"),
        ({f"msk-{number}": "x" for number in range(1, 12)}, "words unknown items ['msk-11']"),
        ({f"msk-{number}": "" for number in range(1, 11)}, "must map each linkId to non-empty text"),
        (["not", "an", "object"], "must map each linkId to non-empty text"),
    ],
)
def test_a_wording_file_that_does_not_fit_leaves_the_tool_unavailable(
    content: ContentRepository, tmp_path: Path, wording: object, problem: str
) -> None:
    (tmp_path / "start-msk-wording.json").write_text(json.dumps(wording), encoding="utf-8")
    registry = InstrumentRegistry.from_content(content, licensed_dir=tmp_path)
    assert registry.get(START_MSK) is None
    assert problem in registry.unavailable[START_MSK].reason


def test_a_missing_file_in_a_configured_folder_is_named(content: ContentRepository, tmp_path: Path) -> None:
    registry = InstrumentRegistry.from_content(content, licensed_dir=tmp_path)
    assert f"({tmp_path / 'start-msk-wording.json'} not found)" in registry.unavailable[START_MSK].reason
