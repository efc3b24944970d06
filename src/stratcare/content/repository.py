"""Loads the project's FHIR content files and service descriptors, validated once at start-up.

Conformance resources are indexed by canonical ``url`` (and ``url|version``); a clinic edits the JSON,
never Python. Each FHIR file is validated against the R4 model (fhir.resources R4B, whose structures match
R4 for these resource types) so that a broken edit stops the service at start-up, not mid-consultation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from stratcare.content.coded_values import invalid_codes
from stratcare.json_types import JsonObject

CONTENT_FOLDERS = ("questionnaires", "plan_definitions", "terminology")
HOOKS_FOLDER = "hooks"


class ContentError(Exception):
    """A content file is missing, unreadable, invalid FHIR, or a canonical it names cannot be found."""


def default_content_root() -> Path:
    """The repository root in a source checkout, else the copy packaged inside the wheel."""
    package_dir = Path(__file__).resolve().parents[1]
    source_root = package_dir.parents[1]
    if (source_root / HOOKS_FOLDER).is_dir() and (source_root / "questionnaires").is_dir():
        return source_root
    return package_dir / "_content"


def _read_json(path: Path) -> JsonObject:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ContentError(f"{path}: cannot read JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ContentError(f"{path}: expected a JSON object")
    return data


def validate_fhir(resource: JsonObject, origin: str) -> None:
    """Raise ContentError unless ``resource`` is a valid FHIR R4 resource of its declared type."""
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str):
        raise ContentError(f"{origin}: no resourceType")
    try:
        model = get_fhir_model_class(resource_type)
    except KeyError as exc:
        raise ContentError(f"{origin}: unknown resourceType {resource_type!r}") from exc
    try:
        validated = model.model_validate(resource)
    except ValidationError as exc:
        raise ContentError(f"{origin}: invalid {resource_type}: {_first_error(resource_type, exc)}") from exc
    for problem in invalid_codes(validated, resource_type):
        raise ContentError(f"{origin}: invalid {resource_type}: {problem}")


def _first_error(resource_type: str, error: ValidationError) -> str:
    """The first problem as ``Type.element[index]: message``, one line (pydantic's text spans many)."""
    first = error.errors()[0]
    element = resource_type
    for part in first.get("loc", ()):
        element += f"[{part}]" if isinstance(part, int) else f".{part}"
    more = error.error_count() - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{element}: {first['msg']}{suffix}"


@dataclass
class ContentRepository:
    """Every conformance resource and service descriptor found under one content root."""

    root: Path
    _by_canonical: dict[tuple[str, str], JsonObject] = field(default_factory=dict)
    service_descriptors: list[JsonObject] = field(default_factory=list)

    @classmethod
    def load(cls, root: Path | None = None) -> ContentRepository:
        repository = cls(root=root or default_content_root())
        if not repository.root.is_dir():
            raise ContentError(f"{repository.root}: no such content folder")
        for folder in CONTENT_FOLDERS:
            for path in sorted((repository.root / folder).glob("*.json")):
                repository.add(_read_json(path), origin=str(path))
        for path in sorted((repository.root / HOOKS_FOLDER).glob("*.json")):
            repository.service_descriptors.append(_read_json(path))
        return repository

    def add(self, resource: JsonObject, origin: str) -> None:
        validate_fhir(resource, origin)
        url = resource.get("url")
        if not isinstance(url, str):
            raise ContentError(f"{origin}: a conformance resource needs a canonical url")
        resource_type = str(resource["resourceType"])
        version = resource.get("version")
        keys = [url] + ([f"{url}|{version}"] if isinstance(version, str) else [])
        for key in keys:
            if (resource_type, key) in self._by_canonical and key == url:
                raise ContentError(f"{origin}: {resource_type} {url} is defined twice")
            self._by_canonical[(resource_type, key)] = resource

    def resolve(self, resource_type: str, canonical: str) -> JsonObject:
        """Find a resource by ``url`` or ``url|version``; raise ContentError when absent."""
        found = self._by_canonical.get((resource_type, canonical))
        if found is None:
            raise ContentError(f"no {resource_type} with canonical {canonical!r}")
        return found

    def find(self, resource_type: str, canonical: str) -> JsonObject | None:
        return self._by_canonical.get((resource_type, canonical))

    def all_of(self, resource_type: str) -> list[JsonObject]:
        seen: dict[int, JsonObject] = {}
        for (kind, _), resource in self._by_canonical.items():
            if kind == resource_type:
                seen[id(resource)] = resource
        return list(seen.values())
