"""The instruments this service scores, each bound to its Questionnaire from the content folder."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from stratcare.content import ContentRepository
from stratcare.instruments import nih_screen, start_back
from stratcare.instruments.answer_key import AnswerKey
from stratcare.instruments.nih_screen import classify_nih_screen
from stratcare.instruments.results import ResponseRejected, ResponseSource, ScoringOutcome
from stratcare.instruments.start_back import score_start_back
from stratcare.instruments.validation import response_source, validate_response

JsonObject = dict[str, Any]
Scorer = Callable[[Mapping[str, str], ResponseSource, str], ScoringOutcome]

START_BACK_URL = "http://stratcare.org/fhir/Questionnaire/start-back"
NIH_SCREEN_URL = "http://stratcare.org/fhir/Questionnaire/nih-clbp-screen"

SCORERS: dict[str, Scorer] = {
    START_BACK_URL: score_start_back,
    NIH_SCREEN_URL: classify_nih_screen,
}
SCORED_ITEMS: dict[str, tuple[str, ...]] = {
    START_BACK_URL: start_back.ITEM_LINK_IDS,
    NIH_SCREEN_URL: (nih_screen.DURATION_LINK_ID, nih_screen.FREQUENCY_LINK_ID),
}


class InstrumentContentError(Exception):
    """The Questionnaire in the content folder does not fit the scoring rule bound to its url."""


def _answer_key(content: ContentRepository, url: str) -> AnswerKey:
    key = AnswerKey.from_questionnaire(content.resolve("Questionnaire", url))
    not_required = [link_id for link_id in SCORED_ITEMS[url] if link_id not in key.required]
    if not_required:
        raise InstrumentContentError(f"{url}: scored items {not_required} must be required items")
    return key


@dataclass(frozen=True)
class Instrument:
    key: AnswerKey
    scorer: Scorer

    def score(self, response: JsonObject, patient_id: str) -> ScoringOutcome:
        checked = validate_response(response, self.key, patient_id)
        if isinstance(checked, ResponseRejected):
            return checked
        return self.scorer(checked.answers, checked.source, self.key.version)


class InstrumentCatalog:
    def __init__(self, instruments: Mapping[str, Instrument]) -> None:
        self._instruments = dict(instruments)

    @classmethod
    def from_content(cls, content: ContentRepository) -> InstrumentCatalog:
        return cls({url: Instrument(_answer_key(content, url), scorer) for url, scorer in SCORERS.items()})

    def score(self, response: JsonObject, patient_id: str) -> ScoringOutcome:
        """Score a response to any known instrument; a response to an unknown one is rejected."""
        url = str(response.get("questionnaire") or "").split("|", 1)[0]
        instrument = self._instruments.get(url)
        if instrument is None:
            return ResponseRejected(
                source=response_source(response),
                instrument=url,
                reasons=(f"no instrument is known for questionnaire {url!r}",),
            )
        return instrument.score(response, patient_id)
