"""FHIR Bundles as servers send them in prefetch and search answers."""

from __future__ import annotations

from stratcare.json_types import JsonObject


def searchset(*resources: JsonObject) -> JsonObject:
    """A complete searchset: every resource a match, ``total`` given."""
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [{"resource": resource, "search": {"mode": "match"}} for resource in resources],
    }
