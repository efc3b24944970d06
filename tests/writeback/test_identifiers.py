"""Result identifiers must survive FHIR token search, else ``ifNoneExist`` never matches and retries copy."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest

from stratcare.instruments.results import ResponseSource
from stratcare.writeback.resources import IDENTIFIER_SYSTEM, Encounter, result_entries, result_identifier
from support.instrument_results import start_back_result

SEARCH_SEPARATORS = ("|", ",", "$", "\\")


def test_plain_parts_read_as_they_are() -> None:
    assert result_identifier("qr1", "2", "1.0.0", "total-score") == "qr1:2:1.0.0:total-score"
    assert result_identifier("qr1", None, "1.0.0", "total-score") == "qr1:-:1.0.0:total-score"


@pytest.mark.parametrize("version", ["1.0|beta", "1,2", "v$1", "a\\b", "2.0:rc1", "1.0 final"])
def test_no_search_separator_reaches_the_identifier(version: str) -> None:
    identifier = result_identifier("qr1", "2", version, "total-score")
    assert not any(separator in identifier for separator in SEARCH_SEPARATORS)
    assert identifier.count(":") == 3
    assert identifier != result_identifier("qr1", "2", "1.0.0", "total-score")


@pytest.mark.parametrize("version", ["1.0.0", "1.0|beta", "1 0%"])
def test_if_none_exist_decodes_to_system_and_the_exact_value(version: str) -> None:
    source = ResponseSource(
        "qr1", "2", "http://stratcare.org/fhir/Questionnaire/start-back", datetime.now(UTC)
    )
    score = start_back_result(source, version, total=5, psychosocial=2, risk_group="medium")
    for entry in result_entries(score, Encounter("p1", None)):
        (token,) = parse_qs(entry["request"]["ifNoneExist"], strict_parsing=True)["identifier"]
        system, value = token.split("|")
        assert (system, value) == (IDENTIFIER_SYSTEM, entry["resource"]["identifier"][0]["value"])
