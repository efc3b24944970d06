"""A third-party instrument, as a site would add one: a Questionnaire JSON plus a scorer distribution."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SD = "http://stratcare.org/fhir/StructureDefinition/"
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
ITEM_WEIGHT_URL = "http://hl7.org/fhir/StructureDefinition/itemWeight"
SYSTEM = "http://example.org/fhir/CodeSystem/worst-pain"
URL = "http://example.org/fhir/Questionnaire/worst-pain"

SCORER_MODULE = '''
from stratcare.instruments.instrument_result import ScorerOutput
from stratcare.instruments.weighted_sum import band_of


def score_worst_item(answers, definition):
    """Not a weighted sum: the score is the heaviest answer among the items."""
    items = definition.scores["worst"]
    scores = {"worst": max(definition.weights[link_id][answers[link_id]] for link_id in items)}
    band = band_of(scores, definition.bands)
    return ScorerOutput(scores=scores, band=band.band.code if band else None, flags=frozenset({"plugin-ran"}))
'''


def _item(link_id: str) -> dict[str, Any]:
    return {
        "linkId": link_id,
        "text": f"Pain at {link_id}",
        "type": "choice",
        "required": True,
        "answerOption": [
            {
                "extension": [{"url": ORDINAL, "valueDecimal": weight}],
                "valueCoding": {"system": SYSTEM, "code": code},
            }
            for code, weight in (("none", 0), ("some", 1), ("severe", 3))
        ],
    }


def worst_pain_questionnaire(scorer: str = "worst-item") -> dict[str, Any]:
    def part(name: str, **value: Any) -> dict[str, Any]:
        return {"url": name, **value}

    return {
        "resourceType": "Questionnaire",
        "id": "worst-pain",
        "extension": [
            {"url": SD + "instrument-key", "valueCode": "worstPain"},
            {"url": SD + "instrument-scorer", "valueCode": scorer},
            {
                "url": SD + "instrument-score",
                "extension": [
                    part("name", valueCode="worst"),
                    part("item", valueString="a"),
                    part("item", valueString="b"),
                ],
            },
            {
                "url": SD + "instrument-band",
                "extension": [
                    part("code", valueCoding={"system": SYSTEM, "code": "bad", "display": "Bad"}),
                    part("score", valueCode="worst"),
                    part("minimum", valueInteger=3),
                ],
            },
            {
                "url": SD + "instrument-band",
                "extension": [part("code", valueCoding={"system": SYSTEM, "code": "ok", "display": "OK"})],
            },
            {"url": SD + "instrument-card-line", "valueString": "Worst pain {worst}/3 ({band})"},
        ],
        "url": URL,
        "version": "2.0.0",
        "status": "active",
        "item": [_item("a"), _item("b")],
    }


def write_content(root: Path, questionnaire: dict[str, Any]) -> Path:
    folder = root / "questionnaires"
    folder.mkdir(parents=True)
    (folder / "Questionnaire-worst-pain.json").write_text(json.dumps(questionnaire), encoding="utf-8")
    return root


def write_scorer_distribution(root: Path, entry_point: str = "worst-item") -> Path:
    """An installed distribution (module + dist-info with a ``stratcare.scorers`` entry point) on ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "worst_item_scorer.py").write_text(SCORER_MODULE, encoding="utf-8")
    info = root / "worst_item_scorer-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: worst-item-scorer\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        f"[stratcare.scorers]\n{entry_point} = worst_item_scorer:score_worst_item\n", encoding="utf-8"
    )
    return root
