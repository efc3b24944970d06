"""What a pathway is evaluated on: one patient's screening results and record, at one instant."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from stratcare.instruments.definition import InstrumentDefinition
from stratcare.instruments.instrument_result import InstrumentResult
from stratcare.instruments.results import ResponseRejected
from stratcare.json_types import JsonObject
from stratcare.pathways.subsumption import NO_ANSWERS, KnownSubsumptions
from stratcare.pathways.workflow import WorkflowFacts

Outcome = InstrumentResult | ResponseRejected


@dataclass(frozen=True, kw_only=True)
class PathwayInputs:
    """Everything a PlanDefinition may look at, already fetched and scored by the caller.

    ``results`` holds, by instrument key (``startBack``, ``phq9``: the Questionnaire's ``instrument-key``),
    the outcome of the patient's newest response to each instrument the service scores: a result, or a
    refusal with reasons; an instrument with no response has no entry. ``unavailable`` gives, by key, why
    an instrument the service scores is not offered here (a licensed tool whose wording is not supplied).
    ``conditions``, ``service_requests`` and ``tasks`` are the patient's resources as found (already
    filtered to this patient); the pathway itself keeps only active Conditions. ``now`` must be
    timezone-aware: screens, orders and the patient's age are all measured against it (each result's
    ``source.dated`` says when its response was made; an undated response is never used for risk).
    ``hierarchy_answers`` are the terminology server's answers to ``Pathway.hierarchy_questions`` for this
    record, if any.
    """

    patient_id: str
    now: datetime
    encounter_id: str | None = None
    results: Mapping[str, Outcome] = field(default_factory=dict)
    instruments: Mapping[str, InstrumentDefinition] = field(default_factory=dict)
    """Every instrument the service scores, with a response or not, in the service's order, by key. Each
    gets its variables; the first is the one the service screens for, so a card says when it has no
    response."""
    patient: JsonObject | None = None
    encounter: JsonObject | None = None
    conditions: Sequence[JsonObject] = ()
    service_requests: Sequence[JsonObject] = ()
    tasks: Sequence[JsonObject] = ()
    """The patient's Tasks as found (the receiving services' worklist Tasks among them)."""
    unavailable: Mapping[str, str] = field(default_factory=dict)
    hierarchy_answers: KnownSubsumptions = field(default_factory=lambda: NO_ANSWERS)
    workflow: WorkflowFacts | None = None
    """The hook, user, workflow point and the call's draft orders and appointments (``workflow``)."""

    def __post_init__(self) -> None:
        if not self.patient_id:
            raise ValueError("patient_id must not be empty")
        if self.encounter_id == "":
            raise ValueError("encounter_id must be None or non-empty")
        if self.now.tzinfo is None or self.now.utcoffset() is None:
            raise ValueError("now must be timezone-aware")

    @property
    def instrument_keys(self) -> list[str]:
        return list(dict.fromkeys([*self.instruments, *self.results]))

    def scored(self, key: str) -> InstrumentResult | None:
        """The result for instrument ``key`` when its newest response was scored (current or not)."""
        outcome = self.results.get(key)
        return outcome if isinstance(outcome, InstrumentResult) else None

    def scored_results(self) -> list[InstrumentResult]:
        return [outcome for outcome in self.results.values() if isinstance(outcome, InstrumentResult)]
