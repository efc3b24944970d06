"""Every shipped Questionnaire, CodeSystem and ConceptMap is valid FHIR (fhir.resources R4B) and every
Questionnaire that declares an instrument reads as consistent scoring content."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class

from stratcare.content import default_content_root
from stratcare.instruments.definition import is_instrument, read_definition

ROOT = default_content_root()
SHIPPED = sorted((ROOT / "questionnaires").glob("*.json")) + sorted((ROOT / "terminology").glob("*.json"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.name)
def test_valid_r4b(path: Path) -> None:
    resource = json.loads(path.read_text(encoding="utf-8"))
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def test_every_shipped_questionnaire_is_an_instrument() -> None:
    questionnaires = [json.loads(p.read_text()) for p in sorted((ROOT / "questionnaires").glob("*.json"))]
    keys = {read_definition(q).key for q in questionnaires if is_instrument(q)}
    assert keys == {"startBack", "nih", "phq9", "gad7", "startMsk"}
