"""The NIH chronic low back pain screen as a scorer: a classification rule, not a weighted sum.

Source: Deyo RA et al., J Pain 2014;15(6):569-585 (see ``nih_screen.py`` for the rule). The band codes it
returns (``chronic``, ``acute``) are declared as ``instrument-band`` entries on the Questionnaire.
"""

from __future__ import annotations

from collections.abc import Mapping

from stratcare.instruments.definition import InstrumentDefinition
from stratcare.instruments.instrument_result import ScorerOutput
from stratcare.instruments.nih_screen import DURATION_LINK_ID, FREQUENCY_LINK_ID, chronicity


def classify_nih(answers: Mapping[str, str], definition: InstrumentDefinition) -> ScorerOutput:
    del definition  # the rule is fixed by the publication; the content only names its band codes
    return ScorerOutput(
        scores={}, band=chronicity(answers[DURATION_LINK_ID], answers[FREQUENCY_LINK_ID]).value
    )
