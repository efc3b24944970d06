"""A loaded pathway: PlanDefinition ``$apply`` in three plain steps, then cards.

1. bind: PathwayInputs become FHIRPath variables (``variables``; ``stratification_tool`` for a pathway
   with the ``toolBySite`` setting);
2. evaluate: each top-level action whose applicability conditions all hold (AND, as FHIR specifies for
   several conditions of one kind) is applied, with a draft ServiceRequest when it defines a referral
   that is not already open (``referrals``; a referral whose receiving service rejected or closed its Task
   is not open, ``referral_status``);
3. build: each applied action becomes one card (``cards``), naming the record resources its evidence
   expression selects.

SNOMED CT hierarchy questions are answered before evaluation (``hierarchy_questions``), never during it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any

from stratcare.cdshooks.models import Card
from stratcare.content import ContentRepository
from stratcare.json_types import JsonObject
from stratcare.pathways.active_conditions import active_conditions
from stratcare.pathways.cards import AppliedAction, UuidFactory, build_card
from stratcare.pathways.definition import (
    ActionSpec,
    PathwayDefinition,
    load_definition,
    screening_orders,
)
from stratcare.pathways.errors import PathwayContentError
from stratcare.pathways.fhirpath import ConditionRun
from stratcare.pathways.inputs import PathwayInputs
from stratcare.pathways.medications import medication_concepts
from stratcare.pathways.referral_status import CLOSED_STATUSES, stratcare_referrals
from stratcare.pathways.referrals import draft_service_request, existing_referral
from stratcare.pathways.screen_dates import is_current
from stratcare.pathways.stratification_tool import (
    TOOL_BY_SITE_SETTING,
    TOOL_VARIABLES,
    ToolBySite,
    load_tool_by_site,
)
from stratcare.pathways.subsumption import Subsumption
from stratcare.pathways.summary import NamedRisk
from stratcare.pathways.tasks import questionnaire_task
from stratcare.pathways.terminology import Terminology
from stratcare.pathways.variables import bind_variables


class Pathway:
    """One PlanDefinition, checked and compiled once; ``apply`` is pure and thread-safe to share."""

    def __init__(
        self,
        definition: PathwayDefinition,
        terminology: Terminology,
        tool_by_site: ToolBySite | None = None,
        screening_orders: frozenset[str] = frozenset(),
    ) -> None:
        self.definition = definition
        self._terminology = terminology
        self._tool_by_site = tool_by_site
        self._screening_orders = screening_orders

    @property
    def canonical(self) -> str:
        return self.definition.canonical

    def hierarchy_questions(
        self, conditions: Iterable[JsonObject], draft_orders: Iterable[JsonObject] = ()
    ) -> frozenset[Subsumption]:
        """What a terminology server should answer before evaluation: about the active Conditions'
        codings (the ones ``%conditions`` holds) and the draft orders' (what a ServiceRequest or a
        MedicationRequest orders, ``medications``)."""
        concepts = [condition.get("code") for condition in active_conditions(conditions)]
        for order in draft_orders:
            concepts += [order.get("code"), *medication_concepts(order)]
        return self._terminology.hierarchy_questions(
            (coding["system"], coding["code"]) for concept in concepts for coding in _codings(concept)
        )

    def evaluate(self, inputs: PathwayInputs) -> list[AppliedAction]:
        """The applicable actions, in PlanDefinition order (raises PathwayContentError on bad content)."""
        variables = bind_variables(inputs, self.definition.settings, self._screening_orders)
        if self._tool_by_site is not None:
            variables |= self._tool_by_site.variables(inputs.conditions)
        context: dict[str, Any] = copy.deepcopy(inputs.patient) if inputs.patient else {}
        context.setdefault("resourceType", "Patient")
        # One run for every condition: sub-expressions they share are evaluated once.
        run = ConditionRun.of(context, variables, self._terminology, inputs.hierarchy_answers)
        applicable = [
            spec
            for spec in self.definition.actions
            if all(condition.holds(run) for condition in spec.conditions)
        ]
        requests = _not_closed(inputs) if any(spec.referral for spec in applicable) else []
        return [
            self._apply_action(spec, inputs, requests, _evidence(spec, context, variables, inputs))
            for spec in applicable
        ]

    def current_risk(self, inputs: PathwayInputs) -> NamedRisk | None:
        """The risk band a card may show: from the first scored instrument whose band declares a
        qualitative risk (content), and only when its response is within the screening window."""
        window = self.definition.screen_window_days
        for result in inputs.scored_results():
            band = result.band
            if band is None or band.qualitative_risk is None:
                continue
            if not is_current(result.source, inputs.now, window):
                return None
            definition = result.definition
            return NamedRisk(
                instrument=definition.short_name,
                band=band.band.display,
                value=band.alias or band.band.code,
                bands=tuple(rule.band.display for rule in definition.bands),
            )
        return None

    def apply(
        self, inputs: PathwayInputs, new_uuid: UuidFactory, launch_url: str | None = None
    ) -> list[Card]:
        """The CDS Hooks cards for ``inputs``; an empty list means nothing applies. ``launch_url``: the
        capture page's SMART launch URL, linked from cards that ask for a screen."""
        return [
            build_card(applied, inputs, self.definition, new_uuid, launch_url)
            for applied in self.evaluate(inputs)
        ]

    def _apply_action(
        self,
        spec: ActionSpec,
        inputs: PathwayInputs,
        open_requests: list[JsonObject],
        evidence: tuple[JsonObject, ...],
    ) -> AppliedAction:
        risk, definition, workflow = self.current_risk(inputs), self.definition, inputs.workflow
        if spec.task is not None and workflow is not None:
            task = questionnaire_task(spec.task, inputs.patient_id, inputs.encounter_id, workflow, inputs.now)
            return AppliedAction(spec=spec, risk=risk, proposed_task=task, evidence=evidence)
        if spec.referral is None:
            return AppliedAction(spec=spec, risk=risk, evidence=evidence)
        existing = existing_referral(
            spec.referral,
            open_requests,
            inputs.now,
            definition.order_window_days,
            in_session=workflow.draft_orders if workflow else (),
        )
        if existing is not None:
            return AppliedAction(spec=spec, risk=risk, existing_request=existing, evidence=evidence)
        request = draft_service_request(spec.referral, inputs, spec.reasons, definition.screen_window_days)
        return AppliedAction(spec=spec, risk=risk, proposed_request=request, evidence=evidence)


def _not_closed(inputs: PathwayInputs) -> list[JsonObject]:
    """The ServiceRequests, less stratcare's referrals that the receiving service rejected, cancelled,
    failed or completed (its Task says so while the request may still read ``active``): the clinician may
    refer again."""
    referrals = stratcare_referrals(inputs.service_requests, inputs.tasks, inputs.patient_id)
    closed = {id(r.service_request) for r in referrals if r.status in CLOSED_STATUSES and r.service_request}
    return [request for request in inputs.service_requests if id(request) not in closed]


def _check_tool_variables(plan: JsonObject, definition: PathwayDefinition) -> None:
    """A pathway naming ``%stratificationTool`` or ``%painSites`` needs the setting that gives them."""
    if TOOL_BY_SITE_SETTING in definition.settings:
        return
    named = sorted(name for name in TOOL_VARIABLES if f"%{name}" in json.dumps(plan.get("action", [])))
    if named:
        raise PathwayContentError(
            f"PlanDefinition {definition.canonical}: uses {named} without the pathway setting "
            f"{TOOL_BY_SITE_SETTING}"
        )


def _codings(concept: object) -> list[JsonObject]:
    if not isinstance(concept, dict) or not isinstance(concept.get("coding"), list):
        return []
    return [
        coding
        for coding in concept["coding"]
        if isinstance(coding, dict)
        and isinstance(coding.get("system"), str)
        and isinstance(coding.get("code"), str)
    ]


def _evidence(
    spec: ActionSpec, context: JsonObject, variables: dict[str, object], inputs: PathwayInputs
) -> tuple[JsonObject, ...]:
    """The record resources the action's evidence expression selects (none without one)."""
    if spec.evidence is None:
        return ()
    found = spec.evidence.evaluate(context, variables, inputs.hierarchy_answers)
    if not all(isinstance(item, dict) and isinstance(item.get("resourceType"), str) for item in found):
        raise PathwayContentError(f"{spec.evidence.origin}: must select resources, gave {found!r}")
    return tuple(item for item in found if isinstance(item, dict))


def load_pathway(
    content: ContentRepository, canonical: str, terminology: Terminology | None = None
) -> Pathway:
    """Load, check and compile the PlanDefinition ``canonical`` (``url`` or ``url|version``)."""
    terminology = terminology or Terminology(content)
    definition = load_definition(content, canonical, terminology)
    _check_tool_variables(content.resolve("PlanDefinition", canonical), definition)
    try:
        tool_by_site = load_tool_by_site(content, definition.settings)
    except PathwayContentError as exc:
        raise PathwayContentError(f"PlanDefinition {canonical}: {exc}") from exc
    return Pathway(definition, terminology, tool_by_site, screening_orders(content))
