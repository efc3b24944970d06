"""Questionnaire instruments: validate a QuestionnaireResponse against its Questionnaire, then score it."""

from stratcare.instruments.catalog import NIH_SCREEN_URL, START_BACK_URL, InstrumentCatalog
from stratcare.instruments.results import (
    Chronicity,
    NihScreenResult,
    ResponseRejected,
    ResponseSource,
    RiskGroup,
    ScoringOutcome,
    StartBackScore,
)

__all__ = [
    "NIH_SCREEN_URL",
    "START_BACK_URL",
    "Chronicity",
    "InstrumentCatalog",
    "NihScreenResult",
    "ResponseRejected",
    "ResponseSource",
    "RiskGroup",
    "ScoringOutcome",
    "StartBackScore",
]
