"""An instrument added from a folder of JSON and a scorer registered as a ``stratcare.scorers`` entry point
is scored by the registry with no code change in stratcare."""

from __future__ import annotations

from pathlib import Path

import pytest

from instruments.plugin_content import (
    SYSTEM,
    URL,
    worst_pain_questionnaire,
    write_content,
    write_scorer_distribution,
)
from instruments.responses import PATIENT_ID, response
from stratcare.content import ContentRepository
from stratcare.instruments.card_lines import card_lines
from stratcare.instruments.instrument_result import InstrumentResult
from stratcare.instruments.registry import InstrumentRegistry
from stratcare.instruments.scorers import BUILT_IN_SCORERS, ScorerNotFound, available_scorers


def _response(a: str, b: str) -> dict[str, object]:
    body = response(URL, {"a": a, "b": b}, SYSTEM)
    body["questionnaire"] = f"{URL}|2.0.0"
    return body


def test_a_plugin_instrument_is_scored_with_no_engine_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(write_scorer_distribution(tmp_path / "site-packages")))
    content = ContentRepository.load(write_content(tmp_path / "content", worst_pain_questionnaire()))
    registry = InstrumentRegistry.from_content(content)

    result = registry.score(_response("some", "severe"), PATIENT_ID)

    assert isinstance(result, InstrumentResult)
    assert (result.key, result.instrument, result.version) == ("worstPain", URL, "2.0.0")
    assert result.scores == {"worst": 3}  # a weighted sum would say 4
    assert result.band is not None
    assert result.band.band.code == "bad"
    assert result.flags == ("plugin-ran",)
    assert card_lines(result) == ["Worst pain 3/3 (Bad)"]


def test_an_unregistered_scorer_stops_start_up_with_its_name(tmp_path: Path) -> None:
    content = ContentRepository.load(write_content(tmp_path, worst_pain_questionnaire("no-such-scorer")))
    with pytest.raises(ScorerNotFound, match="'no-such-scorer' is neither built in nor registered"):
        InstrumentRegistry.from_content(content)


def test_a_plugin_cannot_replace_a_built_in_scorer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(write_scorer_distribution(tmp_path, entry_point="weighted-sum")))
    assert available_scorers()["weighted-sum"] is BUILT_IN_SCORERS["weighted-sum"]
