"""The NIH Research Task Force chronic low back pain screen: a classification rule, not a weighted sum.

Source: Deyo RA et al., "Report of the NIH Task Force on research standards for chronic low back pain",
J Pain 2014;15(6):569-585. Chronic when low back pain has been an ongoing problem for at least 3 months
(3-6 months or longer) AND on at least half the days in the past 6 months; otherwise acute or subacute.
The band codes returned (``chronic``, ``acute``) are declared as ``instrument-band`` entries on the
Questionnaire, which names this scorer (``nih-clbp-screen``).
"""

from __future__ import annotations

from collections.abc import Mapping

from stratcare.instruments.definition import InstrumentDefinition
from stratcare.instruments.instrument_result import ScorerOutput
from stratcare.instruments.results import Chronicity

DURATION_LINK_ID = "nih-duration"
FREQUENCY_LINK_ID = "nih-frequency"
AT_LEAST_THREE_MONTHS = frozenset({"3-6m", "6-12m", "1-5y", "gt-5y"})
AT_LEAST_HALF_THE_DAYS = frozenset({"every-day", "at-least-half"})


def chronicity(duration_code: str, frequency_code: str) -> Chronicity:
    if duration_code in AT_LEAST_THREE_MONTHS and frequency_code in AT_LEAST_HALF_THE_DAYS:
        return Chronicity.CHRONIC
    return Chronicity.ACUTE


def classify_nih(answers: Mapping[str, str], definition: InstrumentDefinition) -> ScorerOutput:
    del definition  # the rule is fixed by the publication; the content only names its band codes
    classification = chronicity(answers[DURATION_LINK_ID], answers[FREQUENCY_LINK_ID])
    return ScorerOutput(scores={}, band=classification.value)
