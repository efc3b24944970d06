"""FHIR date and dateTime values as Python datetimes (pure; shared by scoring and response ordering)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

Precision = Literal["year", "month", "day", "time"]
_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def parse_instant(value: object) -> datetime | None:
    """A full dateTime, timezone-aware (UTC when it names none, offset kept otherwise); None if invalid."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_fhir_datetime(value: object) -> datetime | None:
    """Any FHIR date or dateTime as a UTC instant (start of the period for a year, month or day)."""
    partial = _PARTIAL_DATE.match(value) if isinstance(value, str) else None
    if partial:
        try:
            year, month, day = (int(part) if part else 1 for part in partial.groups())
            return datetime(year, month, day, tzinfo=UTC)
        except ValueError:
            return None
    parsed = parse_instant(value)
    return parsed.astimezone(UTC) if parsed else None


def fhir_datetime_precision(value: object) -> Precision | None:
    """How precise a FHIR date or dateTime is, or None when ``parse_fhir_datetime`` cannot read it."""
    if parse_fhir_datetime(value) is None or not isinstance(value, str):
        return None
    partial = _PARTIAL_DATE.match(value)
    if partial is None:
        return "time"
    _, month, day = partial.groups()
    return "day" if day else "month" if month else "year"
