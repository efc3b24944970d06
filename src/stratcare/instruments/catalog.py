"""The STarT Back and NIH results the current pathway reads, computed through the generic registry.

A thin adapter kept while the engine still takes one typed field per instrument: it scores with
``InstrumentRegistry`` (weights and cut-offs from the Questionnaires) and re-expresses the generic result as
``StartBackScore`` / ``NihScreenResult``.
"""

from __future__ import annotations

from stratcare.content import ContentRepository
from stratcare.instruments.definition import InstrumentContentError
from stratcare.instruments.instrument_result import InstrumentResult
from stratcare.instruments.nih_classification import DURATION_LINK_ID, FREQUENCY_LINK_ID
from stratcare.instruments.registry import InstrumentRegistry
from stratcare.instruments.results import (
    Chronicity,
    NihScreenResult,
    ResponseRejected,
    RiskGroup,
    ScoringOutcome,
    StartBackScore,
)
from stratcare.instruments.validation import response_source
from stratcare.json_types import JsonObject

START_BACK_URL = "http://stratcare.org/fhir/Questionnaire/start-back"
NIH_SCREEN_URL = "http://stratcare.org/fhir/Questionnaire/nih-clbp-screen"
LEGACY_URLS = (START_BACK_URL, NIH_SCREEN_URL)

__all__ = ["NIH_SCREEN_URL", "START_BACK_URL", "InstrumentCatalog", "InstrumentContentError"]


def _start_back(result: InstrumentResult) -> StartBackScore:
    if result.band is None:
        raise InstrumentContentError(f"{result.instrument}: STarT Back content declares no risk bands")
    return StartBackScore(
        source=result.source,
        instrument_version=result.version,
        total=result.scores["total"],
        psychosocial=result.scores["psychosocial"],
        risk_group=RiskGroup(result.band.band.code.removesuffix("-risk")),
    )


def _nih(result: InstrumentResult) -> NihScreenResult:
    return NihScreenResult(
        source=result.source,
        instrument_version=result.version,
        duration_code=result.answers[DURATION_LINK_ID],
        frequency_code=result.answers[FREQUENCY_LINK_ID],
        chronicity=Chronicity(result.band.band.code if result.band else ""),
    )


class InstrumentCatalog:
    def __init__(self, registry: InstrumentRegistry) -> None:
        missing = [url for url in LEGACY_URLS if registry.get(url) is None]
        if missing:
            raise InstrumentContentError(f"the content declares no instrument for {missing}")
        self.registry = registry

    @classmethod
    def from_content(cls, content: ContentRepository) -> InstrumentCatalog:
        return cls(InstrumentRegistry.from_content(content))

    def score(self, response: JsonObject, patient_id: str) -> ScoringOutcome:
        """Score a STarT Back or NIH response; a response to any other questionnaire is rejected."""
        url = str(response.get("questionnaire") or "").split("|", 1)[0]
        if url not in LEGACY_URLS:
            return ResponseRejected(
                source=response_source(response),
                instrument=url,
                reasons=(f"no instrument is known for questionnaire {url!r}",),
            )
        outcome = self.registry.score(response, patient_id)
        if isinstance(outcome, ResponseRejected):
            return outcome
        return _start_back(outcome) if url == START_BACK_URL else _nih(outcome)
