"""Inconsistent scoring content is refused when it is loaded, with the author's mistake named."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from instruments.plugin_content import ITEM_WEIGHT_URL, SD, worst_pain_questionnaire
from stratcare.instruments.definition import InstrumentContentError, read_definition
from stratcare.instruments.registry import InstrumentRegistry
from stratcare.json_types import JsonObject


def _weighted() -> JsonObject:
    return worst_pain_questionnaire("weighted-sum")


def _first_option(questionnaire: JsonObject) -> JsonObject:
    option: JsonObject = questionnaire["item"][0]["answerOption"][1]
    return option


def _fractional(q: JsonObject) -> None:
    _first_option(q)["extension"][0]["valueDecimal"] = 0.5


def _two_weights(q: JsonObject) -> None:
    _first_option(q)["extension"].append({"url": ITEM_WEIGHT_URL, "valueDecimal": 2})


def _partly_weighted(q: JsonObject) -> None:
    del _first_option(q)["extension"]


def _no_otherwise_band(q: JsonObject) -> None:
    del q["extension"][4]


def _unknown_band_score(q: JsonObject) -> None:
    q["extension"][3]["extension"][1]["valueCode"] = "nope"


def _unknown_placeholder(q: JsonObject) -> None:
    q["extension"][5]["valueString"] = "Worst {total}"


def _unweighted_item(q: JsonObject) -> None:
    q["extension"][2]["extension"].append({"url": "item", "valueString": "c"})


def _reserved_score_name(q: JsonObject) -> None:
    q["extension"][2]["extension"][0]["valueCode"] = "flags"
    q["extension"][3]["extension"][1]["valueCode"] = "flags"
    q["extension"][5]["valueString"] = "Worst {flags}"


def _no_version(q: JsonObject) -> None:
    del q["version"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_fractional, "item a has a fractional weight 0.5"),
        (_two_weights, "item a has an answer with two different weights"),
        (_partly_weighted, "item a weights some answers, not all"),
        (_no_otherwise_band, "the last band rule must have no condition"),
        (_unknown_band_score, "band bad tests unknown score nope"),
        (_unknown_placeholder, r"card lines name unknown placeholders \['total'\]"),
        (_unweighted_item, r"score worst sums items without weights: \['c'\]"),
        (_no_version, "an instrument needs a version"),
        (_reserved_score_name, r"score names \['flags'\] are reserved"),
    ],
)
def test_inconsistent_content_is_refused(edit: Callable[[JsonObject], None], message: str) -> None:
    questionnaire = _weighted()
    edit(questionnaire)
    with pytest.raises(InstrumentContentError, match=message):
        read_definition(questionnaire)


def test_item_weight_is_read_like_ordinal_value() -> None:
    questionnaire = _weighted()
    for item in questionnaire["item"]:
        for option in item["answerOption"]:
            option["extension"][0]["url"] = ITEM_WEIGHT_URL
    assert read_definition(questionnaire).weights == read_definition(_weighted()).weights


def test_a_scored_item_must_be_required() -> None:
    questionnaire = _weighted()
    questionnaire["item"][1]["required"] = False
    with pytest.raises(InstrumentContentError, match=r"scored items \['b'\] must be required items"):
        InstrumentRegistry.from_questionnaires([questionnaire])


def test_a_questionnaire_without_an_instrument_key_is_not_an_instrument() -> None:
    questionnaire = _weighted()
    questionnaire["extension"] = [
        ext for ext in questionnaire["extension"] if ext["url"] != SD + "instrument-key"
    ]
    assert InstrumentRegistry.from_questionnaires([questionnaire]).instruments == {}
