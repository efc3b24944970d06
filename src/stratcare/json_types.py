"""The JSON shapes stratcare handles before (or instead of) a typed model: one alias, used everywhere."""

from __future__ import annotations

from typing import Any

JsonObject = dict[str, Any]
"""A JSON object as parsed: a FHIR resource, a CDS Hooks body or a content file."""
