"""Conditions compiled to closures give fhirpathpy's results: on every shipped condition, over the sample
patients and over generated data (including data the closures leave to fhirpathpy)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stratcare.cdshooks.context import parse_context
from stratcare.cdshooks.services import ServiceRegistry
from stratcare.content import ContentRepository
from stratcare.demo.scenarios import load_scenarios
from stratcare.engine.record import build_record
from stratcare.pathways import PathwayContentError, Terminology, load_pathway
from stratcare.pathways.fhirpath import CompiledCondition, ConditionRun, compile_condition
from stratcare.pathways.fhirpath_closures import Unsupported, run_closure
from stratcare.pathways.subsumption import NO_ANSWERS
from stratcare.settings import Settings

VARIABLE = re.compile(r"%([A-Za-z][A-Za-z0-9]*)")
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def shipped_conditions(content: ContentRepository) -> list[CompiledCondition]:
    found: list[CompiledCondition] = []
    services = ServiceRegistry.from_content(content).all()
    for canonical in sorted({s.planDefinition for s in services if s.decision == "stratified-care"}):
        pathway = load_pathway(content, canonical)
        for action in pathway.definition.actions:
            found += action.conditions
    return found


@pytest.fixture(scope="module")
def conditions(content: ContentRepository) -> list[CompiledCondition]:
    return shipped_conditions(content)


def library(condition: CompiledCondition, run: ConditionRun) -> list[object] | Exception:
    try:
        return condition.evaluate(run.resource, run.variables, run.answers)
    except PathwayContentError as error:
        return error


def closure(condition: CompiledCondition, run: ConditionRun) -> list[bool] | Exception:
    assert condition._closure is not None
    try:
        return run_closure(condition._closure, run.shared)
    except Exception as error:  # Unsupported, or an error fhirpathpy must raise too
        return error


def holds(condition: CompiledCondition, run: ConditionRun) -> bool | str:
    try:
        return condition.holds(run)
    except PathwayContentError as error:
        return str(error)


def library_truth(condition: CompiledCondition, run: ConditionRun) -> bool | str:
    result = library(condition, run)
    if isinstance(result, Exception):
        return str(result)
    if result == [True]:
        return True
    if result in ([], [False]):
        return False
    return f"{condition.origin}: {condition.expression!r} must give one boolean, gave {result!r}"


def assert_same(condition: CompiledCondition, run: ConditionRun) -> bool:
    """Closure and library agree on ``run``; True when the closure answered (did not hand over)."""
    expected, got = library(condition, run), closure(condition, run)
    if isinstance(got, list):
        assert got == expected, condition.expression
    elif not isinstance(got, Unsupported):
        assert isinstance(expected, Exception), (condition.expression, got)
    assert holds(condition, run) == library_truth(condition, run), condition.expression
    return isinstance(got, list)


class TestShippedContent:
    def test_every_shipped_condition_is_compiled(self, conditions: list[CompiledCondition]) -> None:
        assert len(conditions) > 50
        assert [c.expression for c in conditions if not c.compiled] == []

    def test_unhandled_shapes_are_left_to_fhirpathpy(self, terminology: Terminology) -> None:
        unhandled = ("%a.count() > 1", "%a.first().b = 1", "1.5 < %a", "%a.exists() implies %b.empty()")
        for expression in unhandled:
            assert not compile_condition(expression, "test", terminology).compiled


def scenario_runs() -> Iterator[ConditionRun]:
    """The runs the engine makes for each demo scenario (every scenario's request, as the EHR sends it)."""
    from stratcare.api.runtime import load_content

    made: list[ConditionRun] = []
    original = ConditionRun.of.__func__  # type: ignore[attr-defined]

    def recording(cls: type[ConditionRun], *args: Any, **kwargs: Any) -> ConditionRun:
        run: ConditionRun = original(cls, *args, **kwargs)
        made.append(run)
        return run

    _, registry, decider = load_content(Settings(database_url="sqlite+aiosqlite:///unused.db"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ConditionRun, "of", classmethod(recording))
        for scenario in load_scenarios(NOW):
            request = scenario.request
            service = registry.get(scenario.service)
            context = parse_context(request["hook"], request["context"])
            record = build_record(request.get("prefetch") or {}, context.patientId, context.encounterId)
            decider.decide(service, context, record, NOW, uuid.uuid4, NO_ANSWERS)
    yield from made


class TestSamplePatients:
    def test_closures_agree_with_fhirpathpy_on_every_scenario(
        self, conditions: list[CompiledCondition]
    ) -> None:
        runs = list(scenario_runs())
        assert len(runs) >= 8
        answered = applicable = 0
        for recorded in runs:
            for condition in conditions:
                run = ConditionRun.of(
                    recorded.resource, recorded.variables, condition._terminology, recorded.answers
                )
                handled = assert_same(condition, run)
                # A condition of another pathway may name variables this run does not bind: both refuse it.
                if set(VARIABLE.findall(condition.expression)) <= set(recorded.variables):
                    applicable += 1
                    answered += handled
        # The sample data is of the kinds the closures handle: none of it is handed over.
        assert applicable > len(runs) * 50
        assert answered == applicable


# --- generated data ---------------------------------------------------------------------------------

CODES = st.sampled_from(
    [
        (SNOMED, "279039007"),  # low back pain
        (SNOMED, "192970008"),  # cauda equina syndrome: a red flag
        (SNOMED, "394451000119106"),  # MRI lumbar spine
        (SNOMED, "360204007"),  # an opioid
        (SNOMED, "308447003"),  # physiotherapy referral
        (ICD10, "G83.4"),
        (ICD10, "M54.5"),
        ("http://stratcare.org/fhir/CodeSystem/stratcare-orders", "psychologically-informed-physiotherapy"),
        (SNOMED, "000000"),
    ]
)
SCALARS = st.one_of(
    st.integers(-3, 60),
    st.sampled_from(["low", "medium", "high", "acute", "chronic", "clinician", "staff", "any-duration"]),
    st.booleans(),
    st.none(),
    st.floats(0, 40, allow_nan=False),
)


@st.composite
def codings(draw: st.DrawFn) -> dict[str, Any]:
    system, code = draw(CODES)
    coding: dict[str, Any] = {"system": system, "code": code}
    if draw(st.integers(0, 9)) == 0:
        del coding["system"]
    return coding


@st.composite
def concepts(draw: st.DrawFn) -> dict[str, Any] | Any:
    shape = draw(st.integers(0, 9))
    if shape == 0:
        return draw(SCALARS)
    if shape == 1:
        return draw(codings())
    return {"coding": draw(st.lists(codings(), max_size=2))}


@st.composite
def resources(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["Condition", "ServiceRequest", "MedicationRequest", None]))
    resource: dict[str, Any] = {"resourceType": kind} if kind else {}
    if kind == "MedicationRequest":
        key = draw(st.sampled_from(["medicationCodeableConcept", "medication", "medicationReference"]))
        resource[key] = draw(concepts())
    else:
        resource["code"] = draw(concepts())
    if draw(st.integers(0, 7)) == 0:
        resource["_code"] = {"extension": [{"url": "http://example.org/x"}]}
    return resource


@st.composite
def screens(draw: st.DrawFn) -> dict[str, Any]:
    screen: dict[str, Any] = {}
    for key in ("ageDays", "riskGroup", "classification", "total"):
        if draw(st.booleans()):
            screen[key] = draw(SCALARS)
    return screen


def one_or_many(items: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.just([]), items, st.lists(items, max_size=3))


@st.composite
def variables(draw: st.DrawFn, names: frozenset[str]) -> dict[str, object]:
    values: dict[str, object] = {
        "settings": {
            "minimumAgeYears": draw(st.sampled_from([16, 18, "16", 16.0])),
            "screenWindowDays": draw(st.sampled_from([28, 14, [28, 29]])),
            "referralDurationScope": draw(st.sampled_from(["any-duration", "acute-only", None])),
        },
    }
    for name in names - {"settings"}:
        if name in ("startBack", "startBackRejected", "nih", "nihRejected"):
            values[name] = draw(one_or_many(screens()))
        elif name in ("conditions", "draftOrders", "recentConditions", "serviceRequests"):
            values[name] = draw(st.lists(resources(), max_size=3))
        elif name in ("encounterReasons", "appointmentReasons"):
            values[name] = draw(st.lists(concepts(), max_size=3))
        elif name == "referrals":
            definition = st.sampled_from(
                [
                    "http://stratcare.org/fhir/ActivityDefinition/pain-platform-referral",
                    "http://stratcare.org/fhir/ActivityDefinition/physiotherapy-referral",
                    "",
                    7,
                ]
            )
            referral = st.fixed_dictionaries({}, optional={"open": SCALARS, "definition": definition})
            values[name] = draw(st.lists(referral, max_size=3))
        elif name == "openQuestionnaireTasks":
            task = st.sampled_from(["http://stratcare.org/fhir/Questionnaire/start-back", "other", 3])
            values[name] = draw(st.lists(task, max_size=2))
        else:
            values[name] = draw(one_or_many(SCALARS))
    return values


class TestGeneratedData:
    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def test_closures_agree_with_fhirpathpy(self, data: st.DataObject) -> None:
        for condition in _conditions_once():
            names = frozenset(VARIABLE.findall(condition.expression))
            values = data.draw(variables(names))
            patient = {"resourceType": "Patient", "id": "p1"}
            assert_same(condition, ConditionRun.of(patient, values, condition._terminology))


_CACHE: dict[int, list[CompiledCondition]] = {}


def _conditions_once() -> list[CompiledCondition]:
    """The shipped conditions, loaded once for all examples (hypothesis calls the test many times)."""
    if not _CACHE:
        unique: dict[str, CompiledCondition] = {}
        for condition in shipped_conditions(ContentRepository.load()):
            unique.setdefault(condition.expression, condition)
        _CACHE[0] = list(unique.values())
    return _CACHE[0]


QUIRKS = [
    # fhirpathpy keeps an item whose criteria gives a navigated false: a ResourceNode is always truthy.
    ("%a.where(flag).exists()", {"a": [{"flag": False}]}),
    ("%a.where(flag = true).exists()", {"a": [{"flag": False}, {"flag": True}]}),
    # = on collections of the same length compares their first items only.
    ("%a.x = %b.x", {"a": [{"x": 1}, {"x": 2}], "b": [{"x": 1}, {"x": 3}]}),
    ("%a.x = %b.x", {"a": [{"x": 1}], "b": [{"x": 1}, {"x": 3}]}),
    ("%a = 'x'", {"a": []}),
    # A single non-boolean item counts as true for not().
    ("%a.not()", {"a": "text"}),
    ("%a.not()", {"a": [True, False]}),
    ("%a.not().empty()", {"a": []}),
    # Choice types: medication is medicationCodeableConcept on a MedicationRequest, not elsewhere.
    (
        "%m.medication.coding.code = 'c'",
        {
            "m": {
                "resourceType": "MedicationRequest",
                "medicationCodeableConcept": {"coding": [{"code": "c"}]},
            }
        },
    ),
    ("%m.medication.coding.code = 'c'", {"m": {"medicationCodeableConcept": {"coding": [{"code": "c"}]}}}),
    ("%m.medication.exists()", {"m": {"resourceType": "Other", "medication": 1}}),
    # Union removes duplicates by value; three-valued logic with empty operands.
    ("(%a | %b).where($this = 1).exists()", {"a": [1, 1], "b": [1, 2]}),
    ("(%a.x | %b.x).where(y = 2).exists() and true", {"a": {"x": {"y": 2}}, "b": {"x": {"y": 2}}}),
    ("%e and true", {"e": []}),
    ("%e or false", {"e": []}),
    ("%e or true", {"e": []}),
    ("%t and %e", {"t": True, "e": []}),
    ("%f and %e", {"f": False, "e": []}),
    ("%a.exists(x > 1) and %a.where(x > 1).where(x < 3).exists()", {"a": [{"x": 1}, {"x": 2}]}),
    ("%a.where(b.where(c = 'z').exists() and $this.b.c = 'z').exists()", {"a": [{"b": [{"c": "z"}]}]}),
    ("%s >= 'b'", {"s": "c"}),
    ("%r.where(definition.startsWith('http://a')).exists()", {"r": [{"definition": "http://a/x"}, {}]}),
    ("%r.definition.startsWith('x')", {"r": {"definition": ""}}),
    ("%r.definition.startsWith('')", {"r": {"definition": ""}}),  # an empty string starts with nothing
    ("%r.definition.startsWith('x').empty()", {"r": {}}),
    ("%p.birthDate.exists()", {"p": {"resourceType": "Patient", "birthDate": "2000"}}),
    ("%r.extension.exists()", {"r": {"extension": [{"url": "u"}]}}),
]


class TestQuirks:
    @pytest.mark.parametrize(("expression", "values"), QUIRKS)
    def test_closure_gives_fhirpathpy_result(
        self, terminology: Terminology, expression: str, values: dict[str, object]
    ) -> None:
        condition = compile_condition(expression, "test", terminology)
        assert condition.compiled
        run = ConditionRun.of({"resourceType": "Patient", "id": "p1"}, values, terminology)
        assert assert_same(condition, run), "the closure handed this over"

    def test_shared_sub_expressions_are_evaluated_once(self, terminology: Terminology) -> None:
        reads: list[str] = []

        class Counting(dict[str, object]):
            def __getitem__(self, name: str) -> object:
                reads.append(name)
                return super().__getitem__(name)

        first = compile_condition("%a.where(x = 1).exists()", "first", terminology)
        second = compile_condition("%a.where(x = 1).empty() or false", "second", terminology)
        run = ConditionRun.of({}, Counting(a=[{"x": 1}]), terminology)
        assert first.holds(run) is True
        assert second.holds(run) is False
        assert reads == ["a"]
