"""Questionnaire instruments: validate a QuestionnaireResponse against its Questionnaire, then score it.

``InstrumentRegistry`` scores every instrument the content declares into a generic ``InstrumentResult``
(docs/instruments.md).
"""

from stratcare.instruments.card_lines import card_lines
from stratcare.instruments.definition import InstrumentContentError, InstrumentDefinition
from stratcare.instruments.instrument_result import (
    InstrumentResult,
    ScorerOutput,
    ScoringOutcome,
    results_by_instrument,
)
from stratcare.instruments.observations import ResultResource, result_resources
from stratcare.instruments.registry import Instrument, InstrumentRegistry, UnavailableInstrument
from stratcare.instruments.results import (
    Chronicity,
    ResponseRejected,
    ResponseSource,
)
from stratcare.instruments.scorers import ENTRY_POINT_GROUP, Scorer, ScorerNotFound
from stratcare.instruments.tool_selection import ConditionCode, resolve_tool

__all__ = [
    "ENTRY_POINT_GROUP",
    "Chronicity",
    "ConditionCode",
    "Instrument",
    "InstrumentContentError",
    "InstrumentDefinition",
    "InstrumentRegistry",
    "InstrumentResult",
    "ResponseRejected",
    "ResponseSource",
    "ResultResource",
    "Scorer",
    "ScorerNotFound",
    "ScorerOutput",
    "ScoringOutcome",
    "UnavailableInstrument",
    "card_lines",
    "resolve_tool",
    "result_resources",
    "results_by_instrument",
]
