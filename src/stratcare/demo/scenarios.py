"""The bundled demo scenarios: one CDS Hooks request per sample patient, stored as JSON beside this file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    service: str
    request: dict[str, Any]


def load_scenarios() -> list[Scenario]:
    folder = resources.files("stratcare.demo") / "requests"
    scenarios = []
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".json"):
            raw = json.loads(entry.read_text(encoding="utf-8"))
            scenarios.append(Scenario(raw["name"], raw["description"], raw["service"], raw["request"]))
    order = {name: index for index, name in enumerate(SHOWCASE_ORDER)}
    return sorted(scenarios, key=lambda scenario: order.get(scenario.name, len(order)))


SHOWCASE_ORDER = (
    "low-risk",
    "medium-risk",
    "high-risk",
    "chronic-pain",
    "incomplete-screen",
    "red-flag",
    "screen-due",
    "missing-data",
    "spine-1-appointment-booked",
    "spine-2-consultation-ended",
)
