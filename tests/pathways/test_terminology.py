"""ValueSet expansion over the repository's terminology files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from stratcare.content import ContentRepository, default_content_root
from stratcare.pathways import PathwayContentError, Terminology

OVERRIDES = "http://stratcare.org/fhir/CodeSystem/override-reasons"


def terminology_with(tmp_path: Path, value_set: dict[str, Any]) -> Terminology:
    shutil.copytree(default_content_root() / "terminology", tmp_path / "terminology")
    (tmp_path / "terminology" / "ValueSet-test.json").write_text(json.dumps(value_set))
    return Terminology(ContentRepository.load(tmp_path))


def value_set(include: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "ValueSet",
        "url": "http://stratcare.org/fhir/ValueSet/test",
        "status": "draft",
        "compose": {"include": [include]},
    }


def test_display_falls_back_to_the_code_system(terminology: Terminology) -> None:
    reasons = terminology.expand("http://stratcare.org/fhir/ValueSet/override-reasons-red-flag")
    assert [(r.code, r.display) for r in reasons][0] == (
        "red-flag-being-managed",
        "Red flag already being managed",
    )


def test_red_flags_cover_cauda_equina_in_snomed_and_icd10(terminology: Terminology) -> None:
    url = "http://stratcare.org/fhir/ValueSet/back-pain-red-flags"
    assert terminology.contains(url, "http://snomed.info/sct", "192970008")
    assert terminology.contains(url, "http://hl7.org/fhir/sid/icd-10", "G83.4")
    assert not terminology.contains(url, "http://snomed.info/sct", "279039007")


def test_back_pain_conditions_include_icd10_cm_subcodes(terminology: Terminology) -> None:
    url = "http://stratcare.org/fhir/ValueSet/back-pain-conditions"
    assert terminology.contains(url, "http://hl7.org/fhir/sid/icd-10-cm", "M54.50")


def test_include_without_concepts_takes_the_whole_code_system(tmp_path: Path) -> None:
    terminology = terminology_with(tmp_path, value_set({"system": OVERRIDES}))
    assert len(terminology.expand("http://stratcare.org/fhir/ValueSet/test")) == 5


def test_whole_external_code_system_raises(tmp_path: Path) -> None:
    terminology = terminology_with(tmp_path, value_set({"system": "http://snomed.info/sct"}))
    with pytest.raises(PathwayContentError, match="not in the repository"):
        terminology.expand("http://stratcare.org/fhir/ValueSet/test")


def test_filter_raises(tmp_path: Path) -> None:
    include = {
        "system": "http://snomed.info/sct",
        "filter": [{"property": "concept", "op": "is-a", "value": "192970008"}],
    }
    terminology = terminology_with(tmp_path, value_set(include))
    with pytest.raises(PathwayContentError, match="no filter"):
        terminology.expand("http://stratcare.org/fhir/ValueSet/test")


def test_code_missing_from_a_repository_code_system_raises(tmp_path: Path) -> None:
    include = {"system": OVERRIDES, "concept": [{"code": "no-such-reason"}]}
    terminology = terminology_with(tmp_path, value_set(include))
    with pytest.raises(PathwayContentError, match="is not a code of"):
        terminology.expand("http://stratcare.org/fhir/ValueSet/test")


def test_unknown_value_set_raises(terminology: Terminology) -> None:
    with pytest.raises(PathwayContentError, match="unknown ValueSet"):
        terminology.expand("http://stratcare.org/fhir/ValueSet/none")
