"""What a pathway is evaluated on: one patient's screening results and record, at one instant."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from stratcare.instruments.results import NihScreenResult, ResponseRejected, StartBackScore
from stratcare.json_types import JsonObject
from stratcare.pathways.subsumption import NO_ANSWERS, KnownSubsumptions
from stratcare.pathways.workflow import WorkflowFacts


@dataclass(frozen=True, kw_only=True)
class PathwayInputs:
    """Everything a PlanDefinition may look at, already fetched and scored by the caller.

    ``start_back`` and ``nih`` hold the outcome of the patient's newest response to each instrument
    (a score, or a refusal with reasons), or ``None`` when the patient has no response. ``conditions`` and
    ``service_requests`` are the patient's resources as found (already filtered to this patient); the
    pathway itself keeps only active Conditions. ``now`` must be timezone-aware: screens, orders and the
    patient's age are all measured against it (each result's ``source.dated`` says when its response was
    made; an undated response is never used for risk). ``hierarchy_answers`` are the terminology server's
    answers to ``Pathway.hierarchy_questions`` for this record, if any.
    """

    patient_id: str
    now: datetime
    encounter_id: str | None = None
    start_back: StartBackScore | ResponseRejected | None = None
    nih: NihScreenResult | ResponseRejected | None = None
    patient: JsonObject | None = None
    encounter: JsonObject | None = None
    conditions: Sequence[JsonObject] = ()
    service_requests: Sequence[JsonObject] = ()
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
    def risk_computed(self) -> StartBackScore | None:
        """The STarT Back score when the newest response was scored, else None (current or not: the
        pathway's ``current_risk`` is what a card may show)."""
        return self.start_back if isinstance(self.start_back, StartBackScore) else None
