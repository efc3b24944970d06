"""FHIRPath conditions: strict syntax, exact-boolean results, and memberOf semantics."""

from __future__ import annotations

from typing import Any

import pytest

from stratcare.pathways import PathwayContentError, Terminology
from stratcare.pathways.fhirpath import check_syntax, compile_condition

RED_FLAGS = "http://stratcare.org/fhir/ValueSet/back-pain-red-flags"
SNOMED = "http://snomed.info/sct"
CAUDA = {"system": SNOMED, "code": "192970008"}
LBP = {"system": SNOMED, "code": "279039007"}


def evaluate(terminology: Terminology, expression: str, **variables: Any) -> bool:
    return compile_condition(expression, "test", terminology).is_true({}, variables)


class TestSyntax:
    @pytest.mark.parametrize("expression", ["foo bar", "%a.where(", "%a = 'x", "1 +"])
    def test_malformed_expression_raises(self, expression: str) -> None:
        with pytest.raises(PathwayContentError, match="syntax error"):
            check_syntax(expression)

    def test_well_formed_expression_passes(self) -> None:
        check_syntax("%conditions.where(code.memberOf('x')).exists() and %a.b = 'c'")


class TestResults:
    def test_true_is_true(self, terminology: Terminology) -> None:
        assert evaluate(terminology, "%a.total >= 4", a={"total": 5}) is True

    def test_false_and_empty_are_false(self, terminology: Terminology) -> None:
        assert evaluate(terminology, "%a.total >= 4", a={"total": 3}) is False
        assert evaluate(terminology, "%a.total >= 4", a=[]) is False

    def test_non_boolean_result_raises(self, terminology: Terminology) -> None:
        with pytest.raises(PathwayContentError, match="must give one boolean"):
            evaluate(terminology, "%a.total", a={"total": 5})

    def test_several_booleans_raise(self, terminology: Terminology) -> None:
        with pytest.raises(PathwayContentError, match="must give one boolean"):
            evaluate(terminology, "%a.flag", a=[{"flag": True}, {"flag": True}])

    def test_undefined_variable_raises(self, terminology: Terminology) -> None:
        with pytest.raises(PathwayContentError, match="failed"):
            evaluate(terminology, "%nosuchVariable.exists()")

    def test_unknown_function_raises(self, terminology: Terminology) -> None:
        with pytest.raises(PathwayContentError, match="failed"):
            evaluate(terminology, "%a.nosuchFunction()", a={"x": 1})


class TestMemberOf:
    def test_coding_in_value_set(self, terminology: Terminology) -> None:
        assert evaluate(terminology, f"%c.memberOf('{RED_FLAGS}')", c=CAUDA)

    def test_coding_outside_value_set(self, terminology: Terminology) -> None:
        assert not evaluate(terminology, f"%c.memberOf('{RED_FLAGS}')", c=LBP)

    def test_codeable_concept_is_member_when_any_coding_is(self, terminology: Terminology) -> None:
        concept = {"coding": [LBP, CAUDA]}
        assert evaluate(terminology, f"%c.memberOf('{RED_FLAGS}')", c=concept)

    def test_system_must_match(self, terminology: Terminology) -> None:
        other_system = {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "192970008"}
        assert not evaluate(terminology, f"%c.memberOf('{RED_FLAGS}')", c=other_system)

    def test_coding_without_system_is_not_a_member(self, terminology: Terminology) -> None:
        assert not evaluate(terminology, f"%c.memberOf('{RED_FLAGS}')", c={"code": "192970008"})

    def test_any_include_of_several_counts(self, terminology: Terminology) -> None:
        icd = {"system": "http://hl7.org/fhir/sid/icd-10", "code": "G83.4"}
        assert evaluate(terminology, f"%c.memberOf('{RED_FLAGS}')", c=icd)

    def test_versioned_canonical_resolves(self, terminology: Terminology) -> None:
        assert evaluate(terminology, f"%c.memberOf('{RED_FLAGS}|2.0.0')", c=CAUDA)

    def test_empty_input_gives_empty(self, terminology: Terminology) -> None:
        assert not evaluate(terminology, f"(%c.memberOf('{RED_FLAGS}')).empty().not()", c=[])

    def test_inside_where_over_conditions(self, terminology: Terminology) -> None:
        conditions = [{"code": {"coding": [LBP]}}, {"code": {"coding": [CAUDA]}}]
        expression = f"%conditions.where(code.memberOf('{RED_FLAGS}')).count() = 1"
        assert evaluate(terminology, expression, conditions=conditions)

    def test_unknown_value_set_raises(self, terminology: Terminology) -> None:
        with pytest.raises(PathwayContentError, match="unknown ValueSet"):
            evaluate(terminology, "%c.memberOf('http://example.org/ValueSet/none')", c=CAUDA)

    def test_several_inputs_raise(self, terminology: Terminology) -> None:
        with pytest.raises(PathwayContentError, match="single item"):
            evaluate(terminology, f"%c.memberOf('{RED_FLAGS}')", c=[CAUDA, LBP])

    def test_non_coding_input_raises(self, terminology: Terminology) -> None:
        with pytest.raises(PathwayContentError, match="Coding or CodeableConcept"):
            evaluate(terminology, f"%c.memberOf('{RED_FLAGS}')", c="192970008")
