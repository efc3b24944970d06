"""The newest screen per questionnaire: authored at any precision, lastUpdated as fallback and tie-break,
voided responses never counted."""

from __future__ import annotations

from typing import Any

import pytest

from stratcare.engine.newest import newest_by_questionnaire
from stratcare.fhir_datetime import parse_fhir_datetime

START_BACK = "http://stratcare.org/fhir/Questionnaire/start-back"
NIH = "http://stratcare.org/fhir/Questionnaire/nih-clbp-screen"


def response(response_id: str, questionnaire: str = START_BACK, **fields: Any) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "id": response_id,
        "questionnaire": f"{questionnaire}|1.0.0",
        "status": "completed",
        **fields,
    }


def newest_id(*responses: dict[str, Any]) -> str:
    return str(newest_by_questionnaire(responses)[START_BACK]["id"])


def test_the_later_authored_wins_whatever_the_order_or_offset() -> None:
    older = response("older", authored="2026-11-20T10:00:00+02:00")  # 08:00 UTC
    newer = response("newer", authored="2026-11-20T09:00:00Z")
    assert newest_id(older, newer) == newest_id(newer, older) == "newer"


def test_each_questionnaire_has_its_own_newest() -> None:
    found = newest_by_questionnaire(
        [response("sb", authored="2026-01-01"), response("nih", NIH, authored="2025-01-01")]
    )
    assert {url: item["id"] for url, item in found.items()} == {START_BACK: "sb", NIH: "nih"}


def test_a_voided_response_does_not_hide_the_screen_before_it() -> None:
    valid = response("valid", authored="2026-11-01")
    voided = response("voided", authored="2026-11-20", status="entered-in-error")
    assert newest_id(valid, voided) == "valid"


def test_an_incomplete_newer_response_still_counts_as_newest() -> None:
    """An in-progress screen is newer than the old one: it is reported as not scorable, never skipped."""
    old = response("old", authored="2026-01-01")
    started = response("started", authored="2026-11-20", status="in-progress")
    assert newest_id(old, started) == "started"


@pytest.mark.parametrize("partial", ["2026-12", "2026"])
def test_partial_dates_are_compared_by_the_period_they_start(partial: str) -> None:
    assert newest_id(
        response("old", authored="2025-06-30T12:00:00Z"), response("partial", authored=partial)
    ) == ("partial")


def test_without_authored_the_last_update_is_the_time() -> None:
    older = response("older", authored="2026-11-01T00:00:00Z")
    undated = response("undated", meta={"lastUpdated": "2026-11-10T00:00:00Z"})
    assert newest_id(older, undated) == "undated"


def test_equal_authored_times_go_to_the_later_update() -> None:
    first = response("first", authored="2026-11-20", meta={"lastUpdated": "2026-11-20T08:00:00Z"})
    second = response("second", authored="2026-11-20", meta={"lastUpdated": "2026-11-20T09:00:00Z"})
    assert newest_id(second, first) == "second"


@pytest.mark.parametrize("value", [None, 20261120, "yesterday", "2026-13-01", "2026-02-30"])
def test_invalid_dates_are_not_times(value: object) -> None:
    assert parse_fhir_datetime(value) is None
