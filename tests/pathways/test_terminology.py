"""ValueSet expansion over the repository's terminology files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from stratcare.content import ContentRepository, default_content_root
from stratcare.pathways import PathwayContentError, Terminology
from stratcare.pathways.subsumption import Subsumption

OVERRIDES = "http://stratcare.org/fhir/CodeSystem/override-reasons"
RED_FLAGS = "http://stratcare.org/fhir/ValueSet/back-pain-red-flags"
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"


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


def test_snomed_filter_without_a_shipped_expansion_raises(tmp_path: Path) -> None:
    include = {
        "system": "http://snomed.info/sct",
        "filter": [{"property": "concept", "op": "is-a", "value": "192970008"}],
    }
    terminology = terminology_with(tmp_path, value_set(include))
    with pytest.raises(PathwayContentError, match="needs a shipped expansion"):
        terminology.check("http://stratcare.org/fhir/ValueSet/test")


@pytest.mark.parametrize(
    "bad_filter",
    [
        {"property": "concept", "op": "regex", "value": "S32.*"},
        {"property": "parent", "op": "is-a", "value": "S32"},
        {"property": "concept", "op": "is-a", "value": "low back"},
    ],
)
def test_unsupported_or_malformed_icd_filter_raises(tmp_path: Path, bad_filter: dict[str, str]) -> None:
    include = {"system": ICD10_CM, "filter": [bad_filter]}
    terminology = terminology_with(tmp_path, value_set(include))
    with pytest.raises(PathwayContentError):
        terminology.check("http://stratcare.org/fhir/ValueSet/test")


def test_filtered_value_set_is_tested_not_listed(terminology: Terminology) -> None:
    with pytest.raises(PathwayContentError, match="cannot|not listed"):
        terminology.expand(RED_FLAGS)


def test_descendent_of_excludes_the_code_itself(tmp_path: Path) -> None:
    include = {
        "system": ICD10_CM,
        "filter": [{"property": "concept", "op": "descendent-of", "value": "M48.5"}],
    }
    terminology = terminology_with(tmp_path, value_set(include))
    url = "http://stratcare.org/fhir/ValueSet/test"
    assert terminology.contains(url, ICD10_CM, "M48.50XA")
    assert not terminology.contains(url, ICD10_CM, "M48.5")


class TestRedFlagIcdChildren:
    @pytest.mark.parametrize(
        "code",
        [
            "S32.010A",
            "M48.56XA",
            "M80.08XA",
            "C79.51",
            "Z85.3",
            "S22.000A",
            "S12.9XXA",
            "M46.26",
            "A18.01",
            "G06.1",
            "G83.4",
            "m4856xa",
            "M4856XA",
        ],
    )
    def test_icd10_cm_child_codes_are_red_flags(self, terminology: Terminology, code: str) -> None:
        assert terminology.contains(RED_FLAGS, ICD10_CM, code)

    @pytest.mark.parametrize("code", ["C61X", "C79.5", "Z85.0", "S32.0", "M48.5", "G83.4"])
    def test_icd10_codes_and_nhs_padded_codes_are_red_flags(
        self, terminology: Terminology, code: str
    ) -> None:
        assert terminology.contains(RED_FLAGS, ICD10, code)

    @pytest.mark.parametrize(
        "code",
        ["M54.5", "M54.50", "S33.5", "S33.5XXA", "S12.8XXA", "M48.06", "M80.00XA", "D49.5", "Z86.0", ""],
    )
    def test_codes_that_only_look_similar_are_not(self, terminology: Terminology, code: str) -> None:
        assert not terminology.contains(RED_FLAGS, ICD10_CM, code)

    def test_icd_codes_under_another_system_are_not(self, terminology: Terminology) -> None:
        assert not terminology.contains(RED_FLAGS, "http://snomed.info/sct", "S32.010A")


class TestSnomedHierarchy:
    def test_shipped_expansion_child_is_a_member_without_a_server(self, terminology: Terminology) -> None:
        assert terminology.contains(RED_FLAGS, SNOMED, "128462008")  # secondary malignant neoplastic disease

    def test_unknown_child_is_not_a_member_without_an_answer(self, terminology: Terminology) -> None:
        assert not terminology.contains(RED_FLAGS, SNOMED, "94503003")

    def test_server_answer_makes_a_child_a_member(self, terminology: Terminology) -> None:
        answers = {Subsumption(SNOMED, "363346000", "94503003"): True}
        assert terminology.contains(RED_FLAGS, SNOMED, "94503003", answers)

    def test_questions_leave_out_what_is_known_locally(self, terminology: Terminology) -> None:
        terminology.check(RED_FLAGS)
        questions = terminology.hierarchy_questions(
            [(SNOMED, "94503003"), (SNOMED, "128462008"), (SNOMED, "192970008"), (ICD10_CM, "S32.010A")]
        )
        assert Subsumption(SNOMED, "363346000", "94503003") in questions
        assert all(q.code != "128462008" for q in questions)  # in the shipped expansion
        assert all(q.system == SNOMED for q in questions)  # ICD-10-CM is decided by structure
        assert Subsumption(SNOMED, "192970008", "192970008") not in questions  # the root itself


def test_code_missing_from_a_repository_code_system_raises(tmp_path: Path) -> None:
    include = {"system": OVERRIDES, "concept": [{"code": "no-such-reason"}]}
    terminology = terminology_with(tmp_path, value_set(include))
    with pytest.raises(PathwayContentError, match="is not a code of"):
        terminology.expand("http://stratcare.org/fhir/ValueSet/test")


def test_unknown_value_set_raises(terminology: Terminology) -> None:
    with pytest.raises(PathwayContentError, match="unknown ValueSet"):
        terminology.expand("http://stratcare.org/fhir/ValueSet/none")
