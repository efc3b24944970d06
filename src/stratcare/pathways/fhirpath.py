"""FHIRPath for pathway conditions: parsed strictly, compiled once, with the ``memberOf`` function.

Evaluation uses fhirpathpy with its R4 model. Two gaps are closed here:

- fhirpathpy's parser recovers from syntax errors silently (``foo bar`` compiles and yields empty), so
  every expression is first parsed against the grammar's ``entireExpression`` rule with an error listener
  that raises.
- fhirpathpy has no terminology functions, so ``memberOf(valueSetUrl)`` is supplied through its
  ``userInvocationTable``, bound for each evaluation to the terminology server's answers for that patient
  (gathered before evaluation, never during it: evaluation stays synchronous and pure). Following
  FHIRPath's terminology service API, a CodeableConcept is a member when
  any of its codings is, and empty input gives empty. Two deliberate deviations, both to fail loudly:
  an unknown ValueSet raises (the spec returns empty), and so does input of more than one item or of a
  type other than Coding/CodeableConcept (the spec returns empty), because an empty result would make a
  condition silently false, and a silently false red-flag condition hides a red flag.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from antlr4 import CommonTokenStream, InputStream  # type: ignore[import-untyped]
from antlr4.error.ErrorListener import ErrorListener  # type: ignore[import-untyped]
from fhirpathpy import apply_parsed_path
from fhirpathpy.models import models
from fhirpathpy.parser import parse
from fhirpathpy.parser.generated.FHIRPathLexer import FHIRPathLexer
from fhirpathpy.parser.generated.FHIRPathParser import FHIRPathParser

from stratcare.pathways.errors import PathwayContentError
from stratcare.pathways.fhirpath_closures import Closure, Evaluation, compile_closure, run_closure
from stratcare.pathways.subsumption import NO_ANSWERS, KnownSubsumptions
from stratcare.pathways.terminology import Terminology

FHIRPATH_LANGUAGE = "text/fhirpath"
_R4_MODEL = models["r4"]


class _RaisingErrorListener(ErrorListener):  # type: ignore[misc]
    def syntaxError(  # the antlr4 callback: arguments come positionally
        self, _recognizer: object, _symbol: object, _line: int, column: int, msg: str, _error: object
    ) -> None:
        raise PathwayContentError(f"FHIRPath syntax error at column {column}: {msg}")


def check_syntax(expression: str) -> None:
    """Raise PathwayContentError unless ``expression`` is one complete FHIRPath expression."""
    listener = _RaisingErrorListener()
    lexer = FHIRPathLexer(InputStream(expression))
    lexer.removeErrorListeners()
    lexer.addErrorListener(listener)
    parser = FHIRPathParser(CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(listener)
    parser.entireExpression()  # type: ignore[no-untyped-call]


def _codings_of(item: object) -> list[Mapping[str, Any]]:
    if isinstance(item, dict) and isinstance(item.get("coding"), list):
        return [coding for coding in item["coding"] if isinstance(coding, dict)]
    if isinstance(item, dict) and "code" in item:
        return [item]
    raise PathwayContentError(f"memberOf() needs a Coding or CodeableConcept, got {item!r}")


def member_of(
    terminology: Terminology, answers: KnownSubsumptions = NO_ANSWERS
) -> Callable[[list[object], str], list[bool]]:
    """FHIRPath ``memberOf(valueSetUrl)`` over the repository's ValueSets and the server's ``answers``."""

    def evaluate(inputs: list[object], value_set: str) -> list[bool]:
        if not inputs:
            return []
        if len(inputs) > 1:
            raise PathwayContentError(f"memberOf() needs a single item, got {len(inputs)}")
        codings = _codings_of(inputs[0])
        terminology.check(value_set)  # an unknown ValueSet raises even for a coding-less concept
        return [
            any(
                isinstance(coding.get("system"), str)
                and isinstance(coding.get("code"), str)
                and terminology.contains(value_set, coding["system"], coding["code"], answers)
                for coding in codings
            )
        ]

    return evaluate


@dataclass(frozen=True)
class ConditionRun:
    """The inputs of one evaluation shared by several conditions (one pathway run): results of the
    sub-expressions they have in common are computed once (see ``fhirpath_closures``)."""

    resource: Mapping[str, Any]
    variables: Mapping[str, object]
    answers: KnownSubsumptions
    terminology: Terminology
    shared: Evaluation

    @classmethod
    def of(
        cls,
        resource: Mapping[str, Any],
        variables: Mapping[str, object],
        terminology: Terminology,
        answers: KnownSubsumptions = NO_ANSWERS,
    ) -> ConditionRun:
        shared = Evaluation(resource, variables, member_of(terminology, answers))
        return cls(resource, variables, answers, terminology, shared)


@dataclass(frozen=True)
class CompiledCondition:
    """One applicability condition, parsed once when the PlanDefinition is loaded; compiled to a closure
    too when its shape allows (``fhirpath_closures``), with fhirpathpy for the rest."""

    expression: str
    origin: str
    _parsed: Mapping[str, Any]
    _terminology: Terminology
    _closure: Closure | None = None

    @property
    def compiled(self) -> bool:
        """Whether the condition runs as a closure (else fhirpathpy evaluates it each time)."""
        return self._closure is not None

    def evaluate(
        self,
        resource: Mapping[str, Any],
        variables: Mapping[str, object],
        answers: KnownSubsumptions = NO_ANSWERS,
    ) -> list[object]:
        """The raw FHIRPath result; raises PathwayContentError when the expression fails."""
        table = {"memberOf": {"fn": member_of(self._terminology, answers), "arity": {1: ["String"]}}}
        options = {"userInvocationTable": table}
        try:
            result: list[object] = apply_parsed_path(  # type: ignore[no-untyped-call]
                resource, self._parsed, dict(variables), _R4_MODEL, options
            )
        except PathwayContentError:
            raise
        except Exception as exc:  # fhirpathpy raises bare Exception/ValueError for bad expressions
            raise PathwayContentError(f"{self.origin}: {self.expression!r} failed: {exc}") from exc
        return result

    def is_true(
        self,
        resource: Mapping[str, Any],
        variables: Mapping[str, object],
        answers: KnownSubsumptions = NO_ANSWERS,
    ) -> bool:
        """True only for exactly ``[true]``; false for ``[false]`` or empty; anything else raises."""
        return self.holds(ConditionRun.of(resource, variables, self._terminology, answers))

    def holds(self, run: ConditionRun) -> bool:
        """``is_true`` on the run's inputs, sharing sub-expression results with the run's other conditions."""
        if run.terminology is not self._terminology:
            raise ValueError("the run was made for another terminology")
        fast: list[bool] | None = None
        if self._closure is not None:
            try:
                fast = run_closure(self._closure, run.shared)
            except Exception:
                # Data the closure leaves to fhirpathpy, or an error that fhirpathpy reports in its words.
                fast = None
        if fast is not None:
            return self._truth(list(fast))
        return self._truth(self.evaluate(run.resource, run.variables, run.answers))

    def _truth(self, result: list[object]) -> bool:
        if result == [True]:
            return True
        if result in ([], [False]):
            return False
        raise PathwayContentError(
            f"{self.origin}: {self.expression!r} must give one boolean, gave {result!r}"
        )


def compile_condition(expression: str, origin: str, terminology: Terminology) -> CompiledCondition:
    """Check the syntax and parse ``expression`` once; ``memberOf`` is bound at each evaluation."""
    check_syntax(expression)
    parsed = parse(expression)  # type: ignore[no-untyped-call]
    return CompiledCondition(
        expression=expression,
        origin=origin,
        _parsed=parsed,
        _terminology=terminology,
        _closure=compile_closure(parsed),
    )
