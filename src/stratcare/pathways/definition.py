"""Load step: read a PlanDefinition into typed, checked action specifications.

Everything that can be checked without patient data is checked here, once, so that a broken edit stops
the service at start-up: expression syntax, referenced ValueSets and ActivityDefinitions, priorities,
selection behaviours, override-reason displays and links. Unsupported PlanDefinition features that would
change meaning if ignored (nested actions, triggers, start/stop conditions, other expression languages)
raise instead of being skipped.

Project extension on PlanDefinition: ``http://stratcare.org/fhir/StructureDefinition/pathway-setting``
(repeated; sub-extensions ``name`` valueString and ``value`` valueInteger or valueCode): the clinic's
settings, which conditions read as ``%settings.<name>``. A condition naming a setting the PlanDefinition
does not define fails at load (it would otherwise be silently false). The engine itself reads
``screenWindowDays`` (no risk group is shown from an older screen) and ``orderWindowDays`` (older open orders
do not count as an existing referral).

Project extensions on PlanDefinition.action:
``http://stratcare.org/fhir/StructureDefinition/cds-override-reasons`` (valueCanonical): the ValueSet whose
codes the card offers as CDS Hooks ``overrideReasons``.
``http://stratcare.org/fhir/StructureDefinition/cds-card-evidence`` (valueExpression, text/fhirpath): the
record resources that made the action apply (e.g. the red-flag Conditions); the card detail names each one.
``http://stratcare.org/fhir/StructureDefinition/cds-card-risk-in-summary`` (valueBoolean, default true):
false keeps the risk band out of the card summary (a red-flag card: it takes precedence over stratified
care).

An action asks for a screen when its ActivityDefinition names the Questionnaire to collect it with: CPG's
``http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-collectWith`` (valueCanonical, ``url|version``), or,
for a questionnaire Task, the Questionnaire the Task asks for (``tasks``). The Questionnaire must be in the
content; its card then carries a SMART link to the capture page (``screen_links``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stratcare.cdshooks.models import Indicator, SelectionBehavior
from stratcare.content import ContentError, ContentRepository
from stratcare.json_types import JsonObject
from stratcare.pathways.card_mapping import indicator_for, selection_for
from stratcare.pathways.codes import Code, Concept
from stratcare.pathways.errors import PathwayContentError
from stratcare.pathways.fhirpath import FHIRPATH_LANGUAGE, CompiledCondition, compile_condition
from stratcare.pathways.referrals import ReferralDefinition, load_referral
from stratcare.pathways.tasks import TaskDefinition, load_task_definition
from stratcare.pathways.terminology import Terminology

OVERRIDE_REASONS_EXTENSION = "http://stratcare.org/fhir/StructureDefinition/cds-override-reasons"
CARD_EVIDENCE_EXTENSION = "http://stratcare.org/fhir/StructureDefinition/cds-card-evidence"
RISK_IN_SUMMARY_EXTENSION = "http://stratcare.org/fhir/StructureDefinition/cds-card-risk-in-summary"
COLLECT_WITH_EXTENSION = "http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-collectWith"
PATHWAY_SETTING_EXTENSION = "http://stratcare.org/fhir/StructureDefinition/pathway-setting"
SCREEN_WINDOW_SETTING = "screenWindowDays"
ORDER_WINDOW_SETTING = "orderWindowDays"
ENGINE_SETTINGS = (SCREEN_WINDOW_SETTING, ORDER_WINDOW_SETTING)
_MEMBER_OF_ARGUMENT = re.compile(r"memberOf\(\s*'([^']*)'\s*\)")
_SETTING_REFERENCE = re.compile(r"%settings\.([A-Za-z][A-Za-z0-9]*)")

Setting = int | str
_UNSUPPORTED_ACTION_ELEMENTS = ("action", "trigger", "dynamicValue", "transform")


@dataclass(frozen=True)
class LinkSpec:
    label: str
    url: str


@dataclass(frozen=True)
class ScreenSpec:
    """The Questionnaire an action asks the patient to complete."""

    questionnaire: str
    """``url|version``."""
    title: str


@dataclass(frozen=True)
class SourceSpec:
    label: str
    url: str | None
    topic: Code | None


@dataclass(frozen=True)
class ActionSpec:
    """One top-level PlanDefinition action, ready to evaluate and turn into a card."""

    id: str
    title: str
    description: str | None
    indicator: Indicator
    conditions: tuple[CompiledCondition, ...]
    links: tuple[LinkSpec, ...]
    override_reasons: tuple[Code, ...]
    selection_behavior: SelectionBehavior
    referral: ReferralDefinition | None
    reasons: tuple[Concept, ...]
    evidence: CompiledCondition | None = None
    """The expression selecting the record resources the card names, when the action has one."""
    task: TaskDefinition | None = None
    """The questionnaire Task the card suggests, when definitionCanonical is an ActivityDefinition of kind
    Task (``tasks``)."""
    risk_in_summary: bool = True
    """Whether the card summary names the current risk band (``summary``); false for a red-flag card."""
    screen: ScreenSpec | None = None
    """The screen the card asks for, when the action asks for one (see the module docstring)."""


@dataclass(frozen=True)
class PathwayDefinition:
    canonical: str
    source: SourceSpec
    actions: tuple[ActionSpec, ...]
    settings: dict[str, Setting]

    @property
    def screen_window_days(self) -> int:
        return int(self.settings[SCREEN_WINDOW_SETTING])

    @property
    def order_window_days(self) -> int:
        return int(self.settings[ORDER_WINDOW_SETTING])


def _setting(extension: JsonObject, origin: str) -> tuple[str, Setting]:
    parts = {part.get("url"): part for part in extension.get("extension", []) if isinstance(part, dict)}
    name = parts.get("name", {}).get("valueString")
    value_part = parts.get("value", {})
    value = value_part.get("valueInteger", value_part.get("valueCode"))
    if not isinstance(name, str) or not isinstance(value, int | str) or isinstance(value, bool):
        raise PathwayContentError(f"{origin}: a pathway setting needs a name and an integer or code value")
    return name, value


def _settings(plan: JsonObject, origin: str) -> dict[str, Setting]:
    settings: dict[str, Setting] = {}
    for extension in plan.get("extension", []):
        if extension.get("url") != PATHWAY_SETTING_EXTENSION:
            continue
        name, value = _setting(extension, origin)
        if name in settings:
            raise PathwayContentError(f"{origin}: pathway setting {name!r} is given twice")
        settings[name] = value
    for name in ENGINE_SETTINGS:
        if not isinstance(settings.get(name), int) or int(settings[name]) < 0:
            raise PathwayContentError(f"{origin}: needs the pathway setting {name} (a whole number >= 0)")
    return settings


def _check_setting_references(actions: list[JsonObject], settings: dict[str, Setting], origin: str) -> None:
    for action in actions:
        for condition in action.get("condition", []):
            text = str((condition.get("expression") or {}).get("expression") or "")
            unknown = sorted(set(_SETTING_REFERENCE.findall(text)) - set(settings))
            if unknown:
                raise PathwayContentError(
                    f"{origin}: action {action.get('id')} names undefined pathway settings {unknown}"
                )


def _condition(raw: JsonObject, origin: str, terminology: Terminology) -> CompiledCondition:
    if raw.get("kind") != "applicability":
        raise PathwayContentError(f"{origin}: only applicability conditions in {FHIRPATH_LANGUAGE}")
    return _expression(raw.get("expression") or {}, origin, terminology)


def _expression(expression: JsonObject, origin: str, terminology: Terminology) -> CompiledCondition:
    if expression.get("language") != FHIRPATH_LANGUAGE:
        raise PathwayContentError(f"{origin}: only expressions in {FHIRPATH_LANGUAGE}")
    text = expression.get("expression")
    if not isinstance(text, str) or not text.strip():
        raise PathwayContentError(f"{origin}: condition has no expression")
    for value_set in _MEMBER_OF_ARGUMENT.findall(text):
        terminology.check(value_set)  # an unknown ValueSet fails at load, not mid-consultation
    return compile_condition(text, origin, terminology)


def _links(action: JsonObject, origin: str) -> tuple[LinkSpec, ...]:
    links = []
    for artifact in action.get("documentation", []):
        label, url = artifact.get("display"), artifact.get("url") or artifact.get("resource")
        if not isinstance(label, str) or not isinstance(url, str):
            raise PathwayContentError(f"{origin}: each documentation entry needs display and url")
        links.append(LinkSpec(label=label, url=url))
    return tuple(links)


def _override_reasons(action: JsonObject, origin: str, terminology: Terminology) -> tuple[Code, ...]:
    value_sets = [
        extension.get("valueCanonical")
        for extension in action.get("extension", [])
        if extension.get("url") == OVERRIDE_REASONS_EXTENSION
    ]
    if len(value_sets) > 1:
        raise PathwayContentError(f"{origin}: at most one override-reasons ValueSet")
    if not value_sets:
        return ()
    reasons = terminology.expand(str(value_sets[0]))
    if not reasons or any(not reason.display for reason in reasons):
        raise PathwayContentError(f"{origin}: every override reason needs a display")
    return reasons


def _evidence(action: JsonObject, origin: str, terminology: Terminology) -> CompiledCondition | None:
    expressions = [
        extension.get("valueExpression")
        for extension in action.get("extension", [])
        if extension.get("url") == CARD_EVIDENCE_EXTENSION
    ]
    if len(expressions) > 1:
        raise PathwayContentError(f"{origin}: at most one card-evidence expression")
    if not expressions:
        return None
    return _expression(expressions[0] or {}, f"{origin} card evidence", terminology)


def _risk_in_summary(action: JsonObject, origin: str) -> bool:
    values = [
        extension.get("valueBoolean")
        for extension in action.get("extension", [])
        if extension.get("url") == RISK_IN_SUMMARY_EXTENSION
    ]
    if len(values) > 1 or any(not isinstance(value, bool) for value in values):
        raise PathwayContentError(f"{origin}: at most one risk-in-summary extension, with a valueBoolean")
    return values[0] if values else True


def _screen(
    activity: JsonObject | None, task: TaskDefinition | None, content: ContentRepository, origin: str
) -> ScreenSpec | None:
    collect_with = [
        extension.get("valueCanonical")
        for extension in (activity or {}).get("extension", [])
        if extension.get("url") == COLLECT_WITH_EXTENSION
    ]
    if len(collect_with) > 1:
        raise PathwayContentError(f"{origin}: at most one cpg-collectWith Questionnaire")
    canonical = collect_with[0] if collect_with else (task.questionnaire if task else None)
    if canonical is None:
        return None
    if not isinstance(canonical, str) or "|" not in canonical:
        raise PathwayContentError(f"{origin}: cpg-collectWith needs a Questionnaire url|version")
    questionnaire = content.find("Questionnaire", canonical)
    if questionnaire is None:
        raise PathwayContentError(f"{origin}: unknown Questionnaire {canonical!r}")
    title = questionnaire.get("title") or questionnaire.get("name")
    if not isinstance(title, str) or not title:
        raise PathwayContentError(f"{origin}: Questionnaire {canonical} needs a title (the link names it)")
    return ScreenSpec(questionnaire=canonical, title=title)


def screening_orders(content: ContentRepository) -> frozenset[str]:
    """The canonicals of the ActivityDefinitions that order a screen (they name the Questionnaire to
    collect it with): requests made from them are the clinic's own, never referrals to another service."""
    return frozenset(
        str(activity["url"])
        for activity in content.all_of("ActivityDefinition")
        if any(e.get("url") == COLLECT_WITH_EXTENSION for e in activity.get("extension", []))
    )


def _action(
    action: JsonObject, index: int, content: ContentRepository, terminology: Terminology
) -> ActionSpec:
    action_id = str(action.get("id") or index)
    origin = f"action {action_id}"
    unsupported = [name for name in _UNSUPPORTED_ACTION_ELEMENTS if action.get(name)]
    if unsupported:
        raise PathwayContentError(f"{origin}: unsupported elements {unsupported}")
    title = action.get("title")
    if not isinstance(title, str) or not title:
        raise PathwayContentError(f"{origin}: needs a title (it becomes the card summary)")
    canonical = action.get("definitionCanonical")
    activity = content.find("ActivityDefinition", canonical) if isinstance(canonical, str) else None
    task = (
        load_task_definition(activity, f"ActivityDefinition {canonical}")
        if activity is not None and activity.get("kind") == "Task"
        else None
    )
    return ActionSpec(
        id=action_id,
        title=title,
        description=action.get("description"),
        indicator=indicator_for(action.get("priority"), origin),
        conditions=tuple(
            _condition(raw, f"{origin} condition {n}", terminology)
            for n, raw in enumerate(action.get("condition", []), start=1)
        ),
        links=_links(action, origin),
        override_reasons=_override_reasons(action, origin, terminology),
        selection_behavior=selection_for(action.get("selectionBehavior"), origin),
        referral=load_referral(content, canonical) if isinstance(canonical, str) and not task else None,
        reasons=tuple(Concept.from_json(reason, origin) for reason in action.get("reason", [])),
        evidence=_evidence(action, origin, terminology),
        task=task,
        risk_in_summary=_risk_in_summary(action, origin),
        screen=_screen(activity, task, content, origin),
    )


def _source(plan: JsonObject, origin: str) -> SourceSpec:
    label = plan.get("title") or plan.get("publisher")
    if not isinstance(label, str):
        raise PathwayContentError(f"{origin}: needs a title or publisher for the card source")
    url = next(
        (
            artifact["url"]
            for artifact in plan.get("relatedArtifact", [])
            if artifact.get("type") == "documentation" and isinstance(artifact.get("url"), str)
        ),
        None,
    )
    topics = plan.get("topic", [])
    topic = Concept.from_json(topics[0], origin).codings[0] if topics else None
    return SourceSpec(label=label, url=url, topic=topic)


def load_definition(
    content: ContentRepository, canonical: str, terminology: Terminology
) -> PathwayDefinition:
    """Resolve, check and compile a PlanDefinition; raise PathwayContentError on any problem."""
    try:
        plan = content.resolve("PlanDefinition", canonical)
    except ContentError as exc:
        raise PathwayContentError(f"unknown PlanDefinition {canonical!r}") from exc
    origin = f"PlanDefinition {canonical}"
    actions = plan.get("action", [])
    if not actions:
        raise PathwayContentError(f"{origin}: has no actions")
    settings = _settings(plan, origin)
    _check_setting_references(actions, settings, origin)
    try:
        specs = tuple(
            _action(action, index, content, terminology) for index, action in enumerate(actions, start=1)
        )
    except PathwayContentError as exc:
        raise PathwayContentError(f"{origin}: {exc}") from exc
    return PathwayDefinition(
        canonical=canonical, source=_source(plan, origin), actions=specs, settings=settings
    )
