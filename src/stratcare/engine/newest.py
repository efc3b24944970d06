"""Which response to each questionnaire is the patient's newest screen.

A response's time is when it was authored (any FHIR dateTime precision: a year, a month, a day or an
instant, taken at the start of the period it names), or, when it names no usable ``authored``, when the
server last updated it. Ties go to the later ``meta.lastUpdated``. A response ``entered-in-error`` was voided
and never counts: it must not hide the screen before it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from stratcare.fhir_datetime import parse_fhir_datetime
from stratcare.json_types import JsonObject

VOIDED_STATUS = "entered-in-error"
_OLDEST = datetime.min.replace(tzinfo=UTC)


def questionnaire_url(response: JsonObject) -> str | None:
    canonical = response.get("questionnaire")
    return canonical.split("|", 1)[0] if isinstance(canonical, str) else None


def _last_updated(response: JsonObject) -> datetime | None:
    meta = response.get("meta")
    return parse_fhir_datetime(meta.get("lastUpdated")) if isinstance(meta, dict) else None


def recency(response: JsonObject) -> tuple[datetime, datetime]:
    updated = _last_updated(response)
    when = parse_fhir_datetime(response.get("authored")) or updated or _OLDEST
    return when, updated or _OLDEST


def newest_by_questionnaire(responses: Iterable[JsonObject]) -> dict[str, JsonObject]:
    newest: dict[str, JsonObject] = {}
    for response in responses:
        url = questionnaire_url(response)
        if url is None or response.get("status") == VOIDED_STATUS:
            continue
        if url not in newest or recency(response) > recency(newest[url]):
            newest[url] = response
    return newest
