"""CPU time per pathway evaluation of the applicability conditions: fhirpathpy on every condition (as
before) vs closures sharing sub-expressions within the run (``pathways/fhirpath_closures.py``).

Run: ``.venv/bin/python -m bench.micro_pathway [scenario-name]`` (default high-risk; process CPU time,
best of five rounds). Only the conditions are timed, over the inputs the engine binds for the scenario.
"""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from bench import micro
from stratcare.api.runtime import load_content
from stratcare.cdshooks.context import parse_context
from stratcare.demo.scenarios import load_scenarios
from stratcare.engine.record import build_record
from stratcare.pathways import Pathway
from stratcare.pathways.fhirpath import ConditionRun
from stratcare.pathways.subsumption import NO_ANSWERS
from stratcare.settings import Settings

RUNS = 300


def captured(name: str) -> tuple[Pathway, ConditionRun]:
    """The pathway and the condition run the engine makes for the scenario's hook call."""
    _, registry, decider = load_content(Settings(database_url="sqlite+aiosqlite:///unused.db"))
    scenario = {scenario.name: scenario for scenario in load_scenarios()}[name]
    request = scenario.request
    service = registry.get(scenario.service)
    context = parse_context(request["hook"], request["context"])
    record = build_record(request.get("prefetch") or {}, context.patientId, context.encounterId)
    seen: list[tuple[Pathway, ConditionRun]] = []
    original_evaluate = Pathway.evaluate
    original_of = ConditionRun.of.__func__  # type: ignore[attr-defined]

    def evaluate(pathway: Pathway, inputs: Any) -> Any:
        seen.append((pathway, None))  # type: ignore[arg-type]
        return original_evaluate(pathway, inputs)

    def of(cls: type[ConditionRun], *args: Any, **kwargs: Any) -> ConditionRun:
        run: ConditionRun = original_of(cls, *args, **kwargs)
        seen[-1] = (seen[-1][0], run)
        return run

    Pathway.evaluate = evaluate  # type: ignore[method-assign, assignment]
    ConditionRun.of = classmethod(of)  # type: ignore[method-assign, assignment]
    try:
        decider.decide(service, context, record, datetime.now(UTC), uuid.uuid4, NO_ANSWERS)
    finally:
        Pathway.evaluate = original_evaluate  # type: ignore[method-assign]
        ConditionRun.of = classmethod(original_of)  # type: ignore[method-assign, assignment]
    return seen[0]


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "high-risk"
    pathway, run = captured(name)
    actions = pathway.definition.actions

    def library() -> list[bool]:
        return [
            all(
                condition._truth(condition.evaluate(run.resource, run.variables, run.answers))
                for condition in action.conditions
            )
            for action in actions
        ]

    def closures() -> list[bool]:
        fresh = ConditionRun.of(run.resource, run.variables, run.terminology, run.answers)
        return [all(condition.holds(fresh) for condition in action.conditions) for action in actions]

    if library() != closures():
        raise SystemExit("the two evaluations disagree")
    count = sum(len(action.conditions) for action in actions)
    _say(f"{name}: {len(actions)} actions, {count} conditions")
    _say(f"  fhirpathpy on every condition: {micro.per_call_ms(library, 50):.3f} ms CPU per run")
    _say(f"  closures, shared sub-expressions: {micro.per_call_ms(closures, RUNS):.3f} ms CPU per run")


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


if __name__ == "__main__":
    main()
