"""Card shape per CDS Hooks 2.0: uuids, no empty or null values, override reasons, indicator table."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from stratcare.cdshooks.models import Card
from stratcare.instruments.results import Chronicity
from stratcare.pathways import Pathway, PathwayContentError, PathwayInputs
from stratcare.pathways.card_mapping import indicator_for, selection_for
from support.instrument_results import RiskGroup

from .factories import (
    CAUDA_EQUINA,
    LOW_BACK_PAIN,
    SequentialUuids,
    condition,
    inputs,
    nih,
    start_back,
    start_back_rejected,
)

ALL_PATHS: dict[str, PathwayInputs] = {
    "red flag": inputs(conditions=[condition(LOW_BACK_PAIN), condition(CAUDA_EQUINA)]),
    "chronic": inputs(nih=nih(Chronicity.CHRONIC)),
    "screening due": inputs(),
    "screen refused": inputs(start_back=start_back_rejected()),
    "low": inputs(start_back=start_back(RiskGroup.LOW)),
    "medium": inputs(start_back=start_back(RiskGroup.MEDIUM), nih=nih(Chronicity.ACUTE)),
    "high": inputs(start_back=start_back(RiskGroup.HIGH)),
}


def all_cards(pathway: Pathway) -> list[Card]:
    return [card for given in ALL_PATHS.values() for card in pathway.apply(given, SequentialUuids())]


def empty_or_null_paths(value: Any, path: str = "$") -> list[str]:
    if value is None or value in ("", [], {}):
        return [path]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in empty_or_null_paths(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [p for n, item in enumerate(value) for p in empty_or_null_paths(item, f"{path}[{n}]")]
    return []


def test_every_path_gives_exactly_one_card(pathway: Pathway) -> None:
    assert len(all_cards(pathway)) == len(ALL_PATHS)


def test_serialised_cards_hold_no_null_or_empty_value(pathway: Pathway) -> None:
    for card in all_cards(pathway):
        assert empty_or_null_paths(card.to_json()) == []


def test_cards_and_suggestions_take_uuids_from_the_injected_factory(pathway: Pathway) -> None:
    new_uuid = SequentialUuids()
    [card] = pathway.apply(ALL_PATHS["high"], new_uuid)
    assert card.suggestions is not None
    assert card.uuid == UUID(int=1)
    assert card.suggestions[0].uuid == UUID(int=2)
    assert new_uuid.issued == [UUID(int=1), UUID(int=2)]


def test_apply_is_deterministic(pathway: Pathway) -> None:
    first = pathway.apply(ALL_PATHS["medium"], SequentialUuids())
    second = pathway.apply(ALL_PATHS["medium"], SequentialUuids())
    assert [card.to_json() for card in first] == [card.to_json() for card in second]


def test_every_override_reason_has_system_code_and_display(pathway: Pathway) -> None:
    for card in all_cards(pathway):
        assert card.overrideReasons, card.summary
        for reason in card.overrideReasons:
            assert reason.system == "http://stratcare.org/fhir/CodeSystem/override-reasons"
            assert reason.code
            assert reason.display


def test_red_flag_card_offers_red_flag_override_reasons(pathway: Pathway) -> None:
    [card] = pathway.apply(ALL_PATHS["red flag"], SequentialUuids())
    assert card.overrideReasons is not None
    assert [reason.display for reason in card.overrideReasons] == [
        "Red flag already being managed",
        "Not clinically appropriate",
        "Patient declined",
    ]


def test_selection_behavior_only_with_suggestions(pathway: Pathway) -> None:
    for card in all_cards(pathway):
        assert (card.selectionBehavior is not None) == (card.suggestions is not None)


class TestIndicatorTable:
    @pytest.mark.parametrize(
        ("priority", "indicator"),
        [("routine", "info"), ("urgent", "warning"), ("asap", "warning"), ("stat", "critical")],
    )
    def test_priority_maps_to_indicator(self, priority: str, indicator: str) -> None:
        assert indicator_for(priority, "test") == indicator

    @pytest.mark.parametrize("priority", [None, "", "high", "ROUTINE"])
    def test_missing_or_unknown_priority_raises(self, priority: object) -> None:
        with pytest.raises(PathwayContentError, match="no card indicator"):
            indicator_for(priority, "test")


class TestSelectionTable:
    @pytest.mark.parametrize(
        ("behavior", "expected"),
        [
            (None, "at-most-one"),
            ("at-most-one", "at-most-one"),
            ("exactly-one", "at-most-one"),
            ("any", "any"),
            ("one-or-more", "any"),
        ],
    )
    def test_behavior_maps_to_cds_selection(self, behavior: str | None, expected: str) -> None:
        assert selection_for(behavior, "test") == expected

    @pytest.mark.parametrize("behavior", ["all", "all-or-none", "some"])
    def test_behavior_without_cds_equivalent_raises(self, behavior: str) -> None:
        with pytest.raises(PathwayContentError, match="no CDS equivalent"):
            selection_for(behavior, "test")


class TestRedFlagCardNamesWhatItFound:
    ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"

    def coded(self, code: str, display: str, recorded: str | None = "2026-10-02") -> dict[str, Any]:
        found = condition(code)
        found["code"] = {"coding": [{"system": self.ICD10_CM, "code": code, "display": display}]}
        if recorded:
            found["recordedDate"] = recorded
        return found

    @pytest.mark.parametrize("code", ["S32.010A", "M48.56XA", "M80.08XA", "C79.51", "Z85.3"])
    def test_icd10_cm_child_code_gives_the_critical_card(self, pathway: Pathway, code: str) -> None:
        given = inputs(
            conditions=[self.coded(code, "Recorded red flag")], start_back=start_back(RiskGroup.HIGH)
        )
        [card] = pathway.apply(given, SequentialUuids())
        assert card.indicator == "critical"
        assert card.suggestions is None

    @pytest.mark.parametrize(("code", "display"), [("M54.50", "Low back pain"), ("S33.5XXA", "Sprain")])
    def test_similar_looking_codes_do_not(self, pathway: Pathway, code: str, display: str) -> None:
        given = inputs(conditions=[self.coded(code, display)], start_back=start_back(RiskGroup.HIGH))
        [card] = pathway.apply(given, SequentialUuids())
        assert card.indicator != "critical"

    def test_detail_names_display_code_and_recorded_date(self, pathway: Pathway) -> None:
        found = self.coded("S32.010A", "Wedge compression fracture of first lumbar vertebra")
        undated = self.coded("Z85.3", "Personal history of malignant neoplasm of breast", recorded=None)
        [card] = pathway.apply(inputs(conditions=[found, undated]), SequentialUuids())
        assert card.detail is not None
        assert (
            "- Wedge compression fracture of first lumbar vertebra (ICD-10-CM S32.010A), recorded 2026-10-02."
            in card.detail
        )
        assert "(ICD-10-CM Z85.3), date not recorded." in card.detail
        assert "NG234" in card.detail
        assert "same day" in card.detail

    def test_other_cards_list_no_evidence(self, pathway: Pathway) -> None:
        [card] = pathway.apply(ALL_PATHS["low"], SequentialUuids())
        assert card.detail is not None
        assert "Found on the record" not in card.detail
