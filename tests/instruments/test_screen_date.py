"""When a response was made: authored at any FHIR precision, else meta.lastUpdated, else undated."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from instruments.responses import start_back_response
from stratcare.instruments.results import ScreenDate
from stratcare.instruments.validation import response_source, screen_date

HIGH_RISK = ["agree"] * 8 + ["extremely"]


def dated(**fields: Any) -> ScreenDate | None:
    response = start_back_response(HIGH_RISK, **fields)
    if fields.get("authored") is None:
        response.pop("authored", None)
    return screen_date(response)


@pytest.mark.parametrize(
    ("authored", "instant", "precision"),
    [
        ("2026-11-20T09:00:00Z", datetime(2026, 11, 20, 9, tzinfo=UTC), "time"),
        ("2026-11-20T09:00:00+01:00", datetime(2026, 11, 20, 8, tzinfo=UTC), "time"),
        ("2026-11-20", datetime(2026, 11, 20, tzinfo=UTC), "day"),
        ("2026-11", datetime(2026, 11, 1, tzinfo=UTC), "month"),
        ("2026", datetime(2026, 1, 1, tzinfo=UTC), "year"),
    ],
)
def test_authored_at_any_precision(authored: str, instant: datetime, precision: str) -> None:
    assert dated(authored=authored) == ScreenDate(instant, precision, "authored")  # type: ignore[arg-type]


def test_without_authored_meta_last_updated_dates_the_response() -> None:
    result = dated(authored=None, meta={"versionId": "4", "lastUpdated": "2026-11-19T17:02:11.482+00:00"})
    assert result == ScreenDate(datetime(2026, 11, 19, 17, 2, 11, 482000, tzinfo=UTC), "time", "lastUpdated")


def test_an_unreadable_authored_falls_back_to_meta_last_updated() -> None:
    result = dated(authored="yesterday", meta={"lastUpdated": "2026-11-19T17:00:00Z"})
    assert result is not None
    assert result.basis == "lastUpdated"


@pytest.mark.parametrize("meta", [None, {}, {"versionId": "1"}, {"lastUpdated": "not a date"}])
def test_with_neither_date_the_response_is_undated(meta: dict[str, str] | None) -> None:
    fields: dict[str, Any] = {"authored": None}
    if meta is not None:
        fields["meta"] = meta
    assert dated(**fields) is None


def test_the_scored_source_carries_the_date() -> None:
    response = start_back_response(HIGH_RISK, authored="2026-11")
    source = response_source(response)
    assert source.authored is None  # not a full instant
    assert source.dated == ScreenDate(datetime(2026, 11, 1, tzinfo=UTC), "month", "authored")
