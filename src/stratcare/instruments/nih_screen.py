"""Classifying the NIH Research Task Force chronic low back pain screen.

Source: Deyo RA et al., "Report of the NIH Task Force on research standards for chronic low back pain",
J Pain 2014;15(6):569-585. Chronic when low back pain has been an ongoing problem for at least 3 months
(3-6 months or longer) AND on at least half the days in the past 6 months; otherwise acute or subacute.
"""

from __future__ import annotations

from collections.abc import Mapping

from stratcare.instruments.results import Chronicity, NihScreenResult, ResponseSource

DURATION_LINK_ID = "nih-duration"
FREQUENCY_LINK_ID = "nih-frequency"
AT_LEAST_THREE_MONTHS = frozenset({"3-6m", "6-12m", "1-5y", "gt-5y"})
AT_LEAST_HALF_THE_DAYS = frozenset({"every-day", "at-least-half"})


def chronicity(duration_code: str, frequency_code: str) -> Chronicity:
    if duration_code in AT_LEAST_THREE_MONTHS and frequency_code in AT_LEAST_HALF_THE_DAYS:
        return Chronicity.CHRONIC
    return Chronicity.ACUTE


def classify_nih_screen(
    answers: Mapping[str, str], source: ResponseSource, instrument_version: str
) -> NihScreenResult:
    """Classify a validated response: ``answers`` holds a code for both items."""
    duration, frequency = answers[DURATION_LINK_ID], answers[FREQUENCY_LINK_ID]
    return NihScreenResult(
        source=source,
        instrument_version=instrument_version,
        duration_code=duration,
        frequency_code=frequency,
        chronicity=chronicity(duration, frequency),
    )
