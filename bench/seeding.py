"""Data the timed runs need first: patients on the local FHIR server, cards issued by the service."""

from __future__ import annotations

from typing import Any

import httpx

from bench import calls

SEED_BATCH = 50


def seed_patients(fhir_base_url: str, count: int) -> list[str]:
    """Put ``count`` copies of the sample patient's record on the FHIR server; return their ids."""
    patients = [f"bench-{index}" for index in range(count)]
    with httpx.Client(base_url=fhir_base_url, timeout=60.0) as fhir:
        for start in range(0, count, SEED_BATCH):
            entries: list[dict[str, Any]] = []
            for patient in patients[start : start + SEED_BATCH]:
                for resource in calls.seed_resources(patient):
                    url = f"{resource['resourceType']}/{resource['id']}"
                    entries.append({"resource": resource, "request": {"method": "PUT", "url": url}})
            bundle = {"resourceType": "Bundle", "type": "batch", "entry": entries}
            response = fhir.post("", json=bundle, headers={"Content-Type": "application/fhir+json"})
            response.raise_for_status()
    return patients


def collect_cards(
    client: calls.CdsClient, base_url: str, fhir_base_url: str, count: int
) -> list[tuple[str, str | None]]:
    """Make ``count`` hook calls and return each first card's uuid and first suggestion's (for feedback)."""
    issued: list[tuple[str, str | None]] = []
    with httpx.Client(base_url=base_url, timeout=30.0) as http:
        for _ in range(count):
            audience = f"{base_url}{calls.HOOK_PATH}"
            response = http.post(
                calls.HOOK_PATH,
                json=calls.hook_with_prefetch(fhir_base_url),
                headers={"Authorization": f"Bearer {client.token(audience)}"},
            )
            response.raise_for_status()
            for card in response.json().get("cards", [])[:1]:
                suggestions = card.get("suggestions") or [{}]
                issued.append((card["uuid"], suggestions[0].get("uuid")))
    if not issued:
        raise SystemExit("the service issued no cards to send feedback on")
    return issued
