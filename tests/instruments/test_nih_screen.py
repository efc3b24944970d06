"""The NIH chronic low back pain screen (Deyo et al. 2014): all 18 answer pairs."""

from __future__ import annotations

import itertools

import pytest

from instruments.responses import PATIENT_ID, nih_response
from stratcare.content import ContentRepository
from stratcare.instruments import Chronicity, InstrumentRegistry
from stratcare.instruments.instrument_result import InstrumentResult

DURATIONS = ("lt-1m", "1-3m", "3-6m", "6-12m", "1-5y", "gt-5y")
FREQUENCIES = ("every-day", "at-least-half", "less-than-half")
THREE_MONTHS_OR_MORE = {
    "3-6m": True,
    "6-12m": True,
    "1-5y": True,
    "gt-5y": True,
    "lt-1m": False,
    "1-3m": False,
}
HALF_THE_DAYS_OR_MORE = {"every-day": True, "at-least-half": True, "less-than-half": False}


@pytest.fixture(scope="module")
def catalog() -> InstrumentRegistry:
    return InstrumentRegistry.from_content(ContentRepository.load())


@pytest.mark.parametrize(("duration", "frequency"), list(itertools.product(DURATIONS, FREQUENCIES)))
def test_chronic_needs_three_months_and_half_the_days(
    catalog: InstrumentRegistry, duration: str, frequency: str
) -> None:
    result = catalog.score(nih_response(duration, frequency), PATIENT_ID)
    assert isinstance(result, InstrumentResult)
    chronic = THREE_MONTHS_OR_MORE[duration] and HALF_THE_DAYS_OR_MORE[frequency]
    assert result.band is not None
    assert result.band.band.code == (Chronicity.CHRONIC if chronic else Chronicity.ACUTE)
    assert (result.answers["nih-duration"], result.answers["nih-frequency"]) == (duration, frequency)
