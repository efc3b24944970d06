"""The structural check of prefetched resources agrees with full FHIR R4 validation where it matters."""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from stratcare.engine.shape import CHECKED_TYPES, misshapen_element


def _shipped_resources() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in (resources.files("stratcare.demo") / "requests").iterdir():
        if not path.name.endswith(".json"):
            continue
        for value in json.loads(path.read_text())["request"].get("prefetch", {}).values():
            if not isinstance(value, dict):
                continue
            entries = [e.get("resource") for e in value.get("entry", [])] if "entry" in value else [value]
            found.extend(r for r in entries if isinstance(r, dict) and r.get("resourceType") in CHECKED_TYPES)
    return found


SHIPPED = _shipped_resources()


def test_there_are_shipped_resources_of_every_checked_type() -> None:
    assert {resource["resourceType"] for resource in SHIPPED} >= {"Patient", "QuestionnaireResponse"}


@pytest.mark.parametrize("resource", SHIPPED, ids=lambda r: f"{r['resourceType']}/{r.get('id')}")
def test_what_full_validation_accepts_the_check_accepts(resource: dict[str, Any]) -> None:
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    assert misshapen_element(resource) is None


@pytest.mark.parametrize(
    ("resource_type", "element", "value", "where"),
    [
        ("Condition", "onsetDateTime", "2026-13-01", "onsetDateTime"),
        ("Condition", "category", {"text": "x"}, "category"),
        ("Condition", "code", {"coding": [{"code": "a", "colour": "red"}]}, "code.coding.0.colour"),
        ("Patient", "birthDate", "1979-03-14T00:00:00Z", "birthDate"),
        ("Patient", "active", [True], "active"),
        ("Encounter", "period", {"start": "yesterday"}, "period.start"),
        ("ServiceRequest", "authoredOn", 20261120, "authoredOn"),
        (
            "QuestionnaireResponse",
            "item",
            [{"linkId": "1", "answer": [{"valueInteger": True}]}],
            "item.0.answer.0.valueInteger",
        ),
    ],
)
def test_a_misfit_is_found_where_full_validation_finds_it(
    resource_type: str, element: str, value: Any, where: str
) -> None:
    resource = {"resourceType": resource_type, "id": "x", element: copy.deepcopy(value)}
    assert misshapen_element(resource) == where
    with pytest.raises(ValueError, match="validation error"):
        get_fhir_model_class(resource_type).model_validate(resource)


def test_an_unread_element_on_the_resource_itself_is_tolerated() -> None:
    assert misshapen_element({"resourceType": "Patient", "id": "x", "photo": "unread"}) is None
