"""The bundled demo scenarios: one CDS Hooks request per sample patient, stored as JSON beside this file.

Screens count only within the pathway's window, so a scenario's record dates (``authored``, ``authoredOn``,
``meta.lastUpdated``, ``recordedDate``) are moved forward by the time elapsed since its ``recordedAt``: the
demo's record is always as fresh as when it was written, whatever the date it is played on. Birth dates are
left alone (a patient only gets older).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

RECORD_DATE_ELEMENTS = frozenset({"authored", "authoredOn", "lastUpdated", "recordedDate"})


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    service: str
    request: dict[str, Any]


def _moved(value: Any, by: timedelta) -> Any:
    if isinstance(value, dict):
        return {
            key: _shift_instant(item, by) if key in RECORD_DATE_ELEMENTS else _moved(item, by)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_moved(item, by) for item in value]
    return value


def _shift_instant(value: Any, by: timedelta) -> Any:
    if not isinstance(value, str):
        return value
    instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if len(value) <= len("2026-11-20"):
        return (instant + by).date().isoformat()
    moved = (instant if instant.tzinfo else instant.replace(tzinfo=UTC)) + by
    return moved.astimezone(UTC).isoformat().replace("+00:00", "Z")


def load_scenarios(now: datetime | None = None) -> list[Scenario]:
    """The scenarios, their record dates moved to ``now`` (the current time by default)."""
    folder = resources.files("stratcare.demo") / "requests"
    played_at = now or datetime.now(UTC)
    scenarios = []
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".json"):
            raw = json.loads(entry.read_text(encoding="utf-8"))
            recorded_at = datetime.fromisoformat(raw["recordedAt"].replace("Z", "+00:00"))
            request = _moved(raw["request"], played_at - recorded_at)
            scenarios.append(Scenario(raw["name"], raw["description"], raw["service"], request))
    order = {name: index for index, name in enumerate(SHOWCASE_ORDER)}
    return sorted(scenarios, key=lambda scenario: order.get(scenario.name, len(order)))


SHOWCASE_ORDER = (
    "low-risk",
    "medium-risk",
    "high-risk",
    "chronic-pain",
    "incomplete-screen",
    "red-flag",
    "pain-platform",
    "screen-due",
    "missing-data",
    "spine-1-appointment-booked",
    "spine-2-consultation-ended",
)
