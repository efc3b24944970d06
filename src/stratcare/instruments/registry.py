"""Every instrument the content declares, each bound to its Questionnaire and its scorer.

A Questionnaire carrying the ``instrument-key`` extension is an instrument; nothing here names one. An
instrument whose licensed wording is not supplied is listed as unavailable with its reason (the service
starts; that tool is simply not offered, and a response to it is refused with the reason).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from stratcare.content import ContentRepository
from stratcare.instruments.answer_key import AnswerKey
from stratcare.instruments.definition import (
    InstrumentContentError,
    InstrumentDefinition,
    is_instrument,
    read_definition,
)
from stratcare.instruments.instrument_result import InstrumentResult
from stratcare.instruments.licensed_wording import WordingUnavailable, merge_licensed_wording
from stratcare.instruments.results import ResponseRejected, ResponseSource
from stratcare.instruments.scorers import Scorer, ScorerNotFound, available_scorers
from stratcare.instruments.validation import response_source, validate_response
from stratcare.instruments.weighted_sum import raised_flags
from stratcare.json_types import JsonObject


@dataclass(frozen=True)
class Instrument:
    definition: InstrumentDefinition
    questionnaire: JsonObject
    """The Questionnaire as offered (with licensed wording merged in, where the instrument needs it)."""
    key: AnswerKey
    scorer: Scorer

    def score(self, response: JsonObject, patient_id: str) -> InstrumentResult | ResponseRejected:
        checked = validate_response(response, self.key, patient_id)
        if isinstance(checked, ResponseRejected):
            return checked
        return self.score_answers(checked.answers, checked.source)

    def score_answers(self, answers: Mapping[str, str], source: ResponseSource) -> InstrumentResult:
        """Score answers already validated against this instrument's Questionnaire."""
        output = self.scorer(answers, self.definition)
        flags = set(output.flags) | set(raised_flags(answers, self.definition))
        declared = [flag.name for flag in self.definition.flags]
        return InstrumentResult(
            definition=self.definition,
            source=source,
            answers=dict(answers),
            scores=dict(output.scores),
            band=self.definition.band(output.band) if output.band is not None else None,
            flags=tuple(
                sorted(flags, key=lambda name: declared.index(name) if name in declared else len(declared))
            ),
        )


@dataclass(frozen=True)
class UnavailableInstrument:
    url: str
    title: str
    reason: str
    definition: InstrumentDefinition | None = None
    """What the content declares about it (its key, so a refusal of it reaches the pathway)."""


class InstrumentRegistry:
    def __init__(
        self, instruments: Iterable[Instrument], unavailable: Iterable[UnavailableInstrument]
    ) -> None:
        self.instruments: dict[str, Instrument] = {i.definition.url: i for i in instruments}
        self.unavailable: dict[str, UnavailableInstrument] = {u.url: u for u in unavailable}

    @classmethod
    def from_content(
        cls,
        content: ContentRepository,
        licensed_dir: Path | None = None,
        scorers: Mapping[str, Scorer] | None = None,
    ) -> InstrumentRegistry:
        return cls.from_questionnaires(content.all_of("Questionnaire"), licensed_dir, scorers)

    @classmethod
    def from_questionnaires(
        cls,
        questionnaires: Iterable[JsonObject],
        licensed_dir: Path | None = None,
        scorers: Mapping[str, Scorer] | None = None,
    ) -> InstrumentRegistry:
        known = available_scorers() if scorers is None else dict(scorers)
        offered: list[Instrument] = []
        unavailable: list[UnavailableInstrument] = []
        for questionnaire in questionnaires:
            if not is_instrument(questionnaire):
                continue
            definition = read_definition(questionnaire)
            try:
                offered.append(_instrument(definition, questionnaire, licensed_dir, known))
            except WordingUnavailable as exc:
                unavailable.append(
                    UnavailableInstrument(definition.url, definition.title, str(exc), definition)
                )
        return cls(offered, unavailable)

    def get(self, url: str) -> Instrument | None:
        return self.instruments.get(url)

    def by_key(self, key: str) -> Instrument | None:
        return next((i for i in self.instruments.values() if i.definition.key == key), None)

    def score(self, response: JsonObject, patient_id: str) -> InstrumentResult | ResponseRejected:
        """Score a response to any offered instrument; any other response is refused with the reason."""
        url = str(response.get("questionnaire") or "").split("|", 1)[0]
        instrument = self.instruments.get(url)
        if instrument is not None:
            return instrument.score(response, patient_id)
        missing = self.unavailable.get(url)
        reason = missing.reason if missing else f"no instrument is known for questionnaire {url!r}"
        return ResponseRejected(source=response_source(response), instrument=url, reasons=(reason,))


def _instrument(
    definition: InstrumentDefinition,
    questionnaire: JsonObject,
    licensed_dir: Path | None,
    scorers: Mapping[str, Scorer],
) -> Instrument:
    scorer = scorers.get(definition.scorer)
    if scorer is None:
        raise ScorerNotFound(
            f"{definition.url}: scorer {definition.scorer!r} is neither built in nor registered "
            f"as a 'stratcare.scorers' entry point"
        )
    if definition.licensed_wording is not None:
        questionnaire = merge_licensed_wording(questionnaire, licensed_dir, definition.licensed_wording)
    key = AnswerKey.from_questionnaire(questionnaire)
    scored = {link_id for items in definition.scores.values() for link_id in items}
    not_required = sorted(scored - set(key.required))
    if not_required:
        raise InstrumentContentError(f"{definition.url}: scored items {not_required} must be required items")
    return Instrument(definition, questionnaire, key, scorer)
