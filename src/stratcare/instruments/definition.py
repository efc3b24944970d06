"""An instrument as content: what a Questionnaire declares about its own scoring, read once at start-up.

Answer weights sit on each ``answerOption`` as the R4 core extension ``ordinalValue``
(http://hl7.org/fhir/StructureDefinition/ordinalValue); its successor ``itemWeight`` (FHIR Extensions Pack,
"this extension used to be called ordinalValue") is read too, and the two must agree when both are present.
Everything else is a Questionnaire-level extension from ``http://stratcare.org/fhir/StructureDefinition/``
(documented in docs/instruments.md):

``instrument-key`` (valueCode)
    The instrument's key in the results mapping (``%results.phq9``); marks the Questionnaire as scored.
``instrument-scorer`` (valueCode)
    The scoring module; ``weighted-sum`` when absent.
``instrument-score`` (complex: ``name`` valueCode, ``item`` valueString 1..*)
    A named score: the sum of the weights of the chosen answers of those items.
``instrument-band`` (complex: ``code`` valueCoding, optional ``score`` valueCode + ``minimum`` valueInteger,
optional ``qualitativeRisk`` valueCoding)
    Ordered rules: the first whose score reaches its minimum (or that has no condition) names the band.
``instrument-flag`` (complex: ``name``, ``item``, ``minimum``, ``severity``, ``systemActionAllowed``,
``description``, ``summary``)
    Raised when the weight of that item's answer reaches the minimum. A raised ``critical`` flag gets its
    own card (``summary``, then ``description``) whatever the pathway says.
``instrument-card-line`` (valueString), ``instrument-observation``, ``instrument-risk-assessment``
    What a card shows and what is written back (see ``observations.py``).
``instrument-licensed-wording`` (valueString)
    The file, in the licensed content folder, that supplies the item wording the repository may not ship.
``instrument-name`` / ``instrument-short-name`` (valueString)
    How a card names the instrument (``STarT Back Screening Tool``) and names it before a band in a summary
    (``STarT Back``); both default to the title.
``instrument-result-name`` (valueCode)
    The instrument's part of the write-back identifier (``response:version:instrument-version:<name>``);
    the key when absent. Fixed once results have been written: it keeps queued and written results findable.
``instrument-refusal-note`` (valueString)
    What a card adds after the reasons when a response to it is refused ("so whether the pain is chronic
    is not known").
``instrument-band-variable`` (valueCode)
    A second name for the band in the instrument's FHIRPath variable (``riskGroup``); its value is the
    band's ``alias`` part (valueCode), else the band code.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from stratcare.json_types import JsonObject

EXTENSION_BASE = "http://stratcare.org/fhir/StructureDefinition/"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"
WEIGHTED_SUM = "weighted-sum"
BAND_PLACEHOLDERS = frozenset({"band", "bandCode"})
RESERVED_SCORE_NAMES = frozenset(
    {"instrument", "version", "scores", "flags", "response", "answers", "band", "bandDisplay", "bandCode"}
    | {"authored", "ageDays", "screenedOn", "datedBy", "reasons"}
)
"""Names the result's FHIRPath variable already uses, so a score cannot be called that."""


class InstrumentContentError(Exception):
    """A Questionnaire's scoring content is inconsistent (a content author's mistake, found at start-up)."""


@dataclass(frozen=True)
class Coding:
    system: str
    code: str
    display: str

    def as_json(self) -> JsonObject:
        return {"system": self.system, "code": self.code, "display": self.display}


@dataclass(frozen=True)
class BandRule:
    band: Coding
    score: str | None
    """The score the rule tests; ``None`` for the closing "otherwise" rule."""
    minimum: int
    qualitative_risk: Coding | None
    alias: str | None = None
    """The band's value under the instrument's ``band_variable`` (``low`` for ``low-risk``)."""


@dataclass(frozen=True)
class FlagRule:
    name: str
    item: str
    minimum: int
    severity: str
    system_action_allowed: bool
    description: str
    summary: str = ""
    """The card summary when the flag is raised (under 140 characters)."""


@dataclass(frozen=True)
class ObservationSpec:
    part: str
    """Stable name of this result within the response (part of the write-back identifier)."""
    codes: tuple[Coding, ...]
    score: str | None
    """The score written as ``valueInteger`` (``valueQuantity`` with a ``unit``); ``None`` writes the band."""
    unit: Coding | None


@dataclass(frozen=True)
class RiskAssessmentSpec:
    part: str
    code: Coding
    method: Coding
    outcome: str


@dataclass(frozen=True)
class InstrumentDefinition:
    key: str
    url: str
    version: str
    title: str
    scorer: str
    weights: Mapping[str, Mapping[str, int]]
    """For every weighted item, by linkId: the weight of each answer code."""
    scores: Mapping[str, tuple[str, ...]]
    bands: tuple[BandRule, ...]
    flags: tuple[FlagRule, ...]
    card_lines: tuple[str, ...]
    observations: tuple[ObservationSpec, ...]
    risk_assessment: RiskAssessmentSpec | None
    licensed_wording: str | None
    name: str = ""
    """How a card names the instrument (the title when the content gives no ``instrument-name``)."""
    short_name: str = ""
    """How a summary names it before a band (``STarT Back`` in "STarT Back high risk")."""
    result_name: str = ""
    """The instrument's part of the write-back identifier (the key when the content gives none)."""
    band_variable: str | None = None
    refusal_note: str = ""

    @property
    def canonical(self) -> str:
        return f"{self.url}|{self.version}"

    def band(self, code: str) -> BandRule:
        """The declared band with this code (KeyError when the content declares none)."""
        return self._bands_by_code[code]

    @cached_property
    def _bands_by_code(self) -> dict[str, BandRule]:
        return {rule.band.code: rule for rule in reversed(self.bands)}

    @cached_property
    def compiled_scores(self) -> tuple[tuple[str, tuple[tuple[str, Mapping[str, int]], ...]], ...]:
        """Each score with the weight table of each of its items, built once: the hot path of scoring."""
        return tuple(
            (name, tuple((link_id, self.weights[link_id]) for link_id in items))
            for name, items in self.scores.items()
        )


def is_instrument(questionnaire: JsonObject) -> bool:
    return _simple(questionnaire, "instrument-key") is not None


def read_definition(questionnaire: JsonObject) -> InstrumentDefinition:
    """Read the scoring content of a Questionnaire; raise InstrumentContentError when it is inconsistent."""
    url = str(questionnaire["url"])
    key = _simple(questionnaire, "instrument-key")
    if not isinstance(key, str):
        raise InstrumentContentError(f"{url}: no instrument-key extension")
    scorer = _simple(questionnaire, "instrument-scorer") or WEIGHTED_SUM
    title = str(questionnaire.get("title") or questionnaire.get("name") or url)
    name = _simple(questionnaire, "instrument-name") or title
    definition = InstrumentDefinition(
        key=key,
        url=url,
        version=str(questionnaire.get("version") or ""),
        title=title,
        scorer=str(scorer),
        weights=_weights(url, questionnaire.get("item", [])),
        scores={
            _code(url, ext, "name"): _strings(ext, "item") for ext in _all(questionnaire, "instrument-score")
        },
        bands=tuple(_band(url, ext) for ext in _all(questionnaire, "instrument-band")),
        flags=tuple(_flag(url, ext) for ext in _all(questionnaire, "instrument-flag")),
        card_lines=tuple(str(ext.get("valueString")) for ext in _all(questionnaire, "instrument-card-line")),
        observations=tuple(_observation(url, ext) for ext in _all(questionnaire, "instrument-observation")),
        risk_assessment=_risk_assessment(url, questionnaire),
        licensed_wording=_simple(questionnaire, "instrument-licensed-wording"),
        name=name,
        short_name=_simple(questionnaire, "instrument-short-name") or name,
        result_name=_simple(questionnaire, "instrument-result-name") or key,
        band_variable=_simple(questionnaire, "instrument-band-variable"),
        refusal_note=_simple(questionnaire, "instrument-refusal-note") or "",
    )
    _check(definition)
    return definition


def _check(definition: InstrumentDefinition) -> None:
    url = definition.url
    if not definition.version:
        raise InstrumentContentError(f"{url}: an instrument needs a version")
    if definition.band_variable in RESERVED_SCORE_NAMES | set(definition.scores):
        raise InstrumentContentError(f"{url}: band variable {definition.band_variable!r} is already a name")
    reserved = sorted(RESERVED_SCORE_NAMES.intersection(definition.scores))
    if reserved:
        raise InstrumentContentError(f"{url}: score names {reserved} are reserved")
    for name, items in definition.scores.items():
        unweighted = [link_id for link_id in items if link_id not in definition.weights]
        if unweighted:
            raise InstrumentContentError(f"{url}: score {name} sums items without weights: {unweighted}")
    for rule in definition.bands:
        if rule.score is not None and rule.score not in definition.scores:
            raise InstrumentContentError(f"{url}: band {rule.band.code} tests unknown score {rule.score}")
    if definition.scorer == WEIGHTED_SUM and definition.bands and definition.bands[-1].score is not None:
        raise InstrumentContentError(
            f"{url}: the last band rule must have no condition (the 'otherwise' band)"
        )
    for flag in definition.flags:
        if flag.item not in definition.weights:
            raise InstrumentContentError(
                f"{url}: flag {flag.name} reads item {flag.item}, which has no weights"
            )
    unknown = unknown_placeholders(definition)
    if unknown:
        raise InstrumentContentError(f"{url}: card lines name unknown placeholders {unknown}")
    for spec in definition.observations:
        if spec.score is not None and spec.score not in definition.scores:
            raise InstrumentContentError(f"{url}: observation {spec.part} writes unknown score {spec.score}")


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def unknown_placeholders(definition: InstrumentDefinition) -> list[str]:
    """Card-line placeholders that are neither a score of the instrument nor ``band``/``bandCode``."""
    known = set(definition.scores) | BAND_PLACEHOLDERS
    return sorted({name for line in definition.card_lines for name in placeholders(line)} - known)


def _walk(items: list[JsonObject]) -> Iterator[JsonObject]:
    for item in items:
        yield item
        yield from _walk(item.get("item", []))


def _weights(url: str, items: list[JsonObject]) -> dict[str, dict[str, int]]:
    weights: dict[str, dict[str, int]] = {}
    for item in _walk(items):
        by_code: dict[str, int] = {}
        for option in item.get("answerOption", []):
            weight = _option_weight(url, item, option)
            coding = option.get("valueCoding")
            if weight is not None and isinstance(coding, dict):
                by_code[str(coding["code"])] = weight
        if by_code:
            if len(by_code) != len(item.get("answerOption", [])):
                raise InstrumentContentError(f"{url}: item {item['linkId']} weights some answers, not all")
            weights[str(item["linkId"])] = by_code
    return weights


def _option_weight(url: str, item: JsonObject, option: JsonObject) -> int | None:
    found = {
        Decimal(str(ext["valueDecimal"]))
        for ext in option.get("extension", [])
        if ext.get("url") in (ORDINAL_VALUE, ITEM_WEIGHT) and "valueDecimal" in ext
    }
    if not found:
        return None
    if len(found) > 1:
        raise InstrumentContentError(f"{url}: item {item['linkId']} has an answer with two different weights")
    weight = found.pop()
    if weight != weight.to_integral_value():
        raise InstrumentContentError(f"{url}: item {item['linkId']} has a fractional weight {weight}")
    return int(weight)


def _all(element: JsonObject, name: str) -> list[JsonObject]:
    url = name if name.startswith("http") else EXTENSION_BASE + name
    return [ext for ext in element.get("extension", []) if ext.get("url") == url]


def _simple(element: JsonObject, name: str) -> str | None:
    for ext in _all(element, name):
        for key, value in ext.items():
            if key.startswith("value"):
                return str(value)
    return None


def _part(ext: JsonObject, name: str) -> JsonObject | None:
    parts = [part for part in ext.get("extension", []) if part.get("url") == name]
    return parts[0] if parts else None


def _code(url: str, ext: JsonObject, name: str) -> str:
    part = _part(ext, name)
    if part is None or "valueCode" not in part:
        raise InstrumentContentError(f"{url}: {ext.get('url')} needs a '{name}' code")
    return str(part["valueCode"])


def _strings(ext: JsonObject, name: str) -> tuple[str, ...]:
    return tuple(str(part["valueString"]) for part in ext.get("extension", []) if part.get("url") == name)


def _coding(part: JsonObject | None) -> Coding | None:
    if part is None or not isinstance(part.get("valueCoding"), dict):
        return None
    coding = part["valueCoding"]
    return Coding(str(coding["system"]), str(coding["code"]), str(coding.get("display") or coding["code"]))


def _required_coding(url: str, ext: JsonObject, name: str) -> Coding:
    coding = _coding(_part(ext, name))
    if coding is None:
        raise InstrumentContentError(f"{url}: {ext.get('url')} needs a '{name}' coding")
    return coding


def _integer(ext: JsonObject, name: str, default: int) -> int:
    part = _part(ext, name)
    return int(part["valueInteger"]) if part is not None and "valueInteger" in part else default


def _band(url: str, ext: JsonObject) -> BandRule:
    score = _part(ext, "score")
    alias = _part(ext, "alias")
    return BandRule(
        band=_required_coding(url, ext, "code"),
        score=str(score["valueCode"]) if score is not None else None,
        minimum=_integer(ext, "minimum", 0),
        qualitative_risk=_coding(_part(ext, "qualitativeRisk")),
        alias=str(alias["valueCode"]) if alias is not None and "valueCode" in alias else None,
    )


def _flag(url: str, ext: JsonObject) -> FlagRule:
    allowed = _part(ext, "systemActionAllowed")
    description = _part(ext, "description")
    severity = _part(ext, "severity")
    summary = _part(ext, "summary")
    if summary is not None and len(str(summary.get("valueString"))) >= 140:
        raise InstrumentContentError(f"{url}: flag summary must be under 140 characters")
    return FlagRule(
        name=_code(url, ext, "name"),
        item=_strings(ext, "item")[0],
        minimum=_integer(ext, "minimum", 1),
        severity=str(severity["valueCode"]) if severity is not None else "warning",
        # A flag may only start a system action when the content says so in as many words.
        system_action_allowed=allowed is not None and allowed.get("valueBoolean") is True,
        description=str(description["valueString"]) if description is not None else "",
        summary=str(summary["valueString"]) if summary is not None else "",
    )


def _observation(url: str, ext: JsonObject) -> ObservationSpec:
    score = _part(ext, "score")
    codes = tuple(
        coding for part in ext.get("extension", []) if part.get("url") == "code" if (coding := _coding(part))
    )
    if not codes:
        raise InstrumentContentError(f"{url}: instrument-observation needs a 'code' coding")
    return ObservationSpec(
        part=_code(url, ext, "part"),
        codes=codes,
        score=str(score["valueCode"]) if score is not None else None,
        unit=_coding(_part(ext, "unit")),
    )


def _risk_assessment(url: str, questionnaire: JsonObject) -> RiskAssessmentSpec | None:
    found = _all(questionnaire, "instrument-risk-assessment")
    if not found:
        return None
    ext = found[0]
    outcome = _part(ext, "outcome")
    return RiskAssessmentSpec(
        part=_code(url, ext, "part"),
        code=_required_coding(url, ext, "code"),
        method=_required_coding(url, ext, "method"),
        outcome=str(outcome["valueString"]) if outcome is not None else "",
    )
