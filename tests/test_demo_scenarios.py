"""The demo's sample records keep their meaning whenever the demo is played: dates move with the clock."""

from __future__ import annotations

from datetime import UTC, datetime

from stratcare.demo.scenarios import load_scenarios
from stratcare.json_types import JsonObject

PLAYED_AT = datetime(2031, 6, 15, 12, 0, tzinfo=UTC)


def resources_of(request: JsonObject, resource_type: str) -> list[JsonObject]:
    found: list[JsonObject] = []
    for value in (request.get("prefetch") or {}).values():
        entries = value.get("entry", []) if value.get("resourceType") == "Bundle" else [{"resource": value}]
        found += [
            entry["resource"] for entry in entries if entry["resource"]["resourceType"] == resource_type
        ]
    return found


def test_screens_are_moved_to_the_time_the_demo_is_played() -> None:
    [high] = [scenario for scenario in load_scenarios(PLAYED_AT) if scenario.name == "high-risk"]
    authored = [response["authored"] for response in resources_of(high.request, "QuestionnaireResponse")]
    # Recorded 45 and 50 minutes before the scenario's recordedAt (2026-11-20T10:00:00Z).
    assert sorted(authored) == ["2031-06-15T11:10:00Z", "2031-06-15T11:15:00Z"]


def test_birth_dates_are_left_alone() -> None:
    [high] = [scenario for scenario in load_scenarios(PLAYED_AT) if scenario.name == "high-risk"]
    [patient] = resources_of(high.request, "Patient")
    assert patient["birthDate"] == "1979-03-14"


def test_every_sample_patient_has_a_birth_date() -> None:
    for scenario in load_scenarios(PLAYED_AT):
        for patient in resources_of(scenario.request, "Patient"):
            assert "birthDate" in patient, scenario.name
