"""ValueSet expansion and membership over the repository's own terminology files.

Supports what the project's ValueSets use: ``compose.include`` entries with a ``system`` and either an
enumerated ``concept`` list or no list at all (meaning every concept of a CodeSystem the repository holds).
Anything else (filters, imported ValueSets, excludes, an unknown ValueSet or CodeSystem) raises instead of
silently expanding to fewer codes: a red-flag ValueSet that quietly loses codes misses red flags.
"""

from __future__ import annotations

from collections.abc import Iterator

from stratcare.content import ContentError, ContentRepository
from stratcare.pathways.codes import Code, JsonObject
from stratcare.pathways.errors import PathwayContentError


class Terminology:
    """Expands ValueSets once, on first use, and answers membership questions."""

    def __init__(self, content: ContentRepository) -> None:
        self._content = content
        self._expansions: dict[str, tuple[Code, ...]] = {}
        self._members: dict[str, frozenset[tuple[str, str]]] = {}

    def expand(self, value_set: str) -> tuple[Code, ...]:
        """Every code of the ValueSet, with its display (from the ValueSet, else the CodeSystem)."""
        if value_set not in self._expansions:
            self._expansions[value_set] = tuple(self._expand(self._resolve(value_set), value_set))
        return self._expansions[value_set]

    def contains(self, value_set: str, system: str, code: str) -> bool:
        """Whether ``system|code`` is in the ValueSet (system and code both compared exactly)."""
        if value_set not in self._members:
            self._members[value_set] = frozenset((c.system, c.code) for c in self.expand(value_set))
        return (system, code) in self._members[value_set]

    def _resolve(self, value_set: str) -> JsonObject:
        try:
            return self._content.resolve("ValueSet", value_set)
        except ContentError as exc:
            raise PathwayContentError(f"unknown ValueSet {value_set!r}") from exc

    def _expand(self, resource: JsonObject, origin: str) -> Iterator[Code]:
        compose = resource.get("compose")
        if not isinstance(compose, dict) or not isinstance(compose.get("include"), list):
            raise PathwayContentError(f"ValueSet {origin}: needs compose.include")
        if compose.get("exclude"):
            raise PathwayContentError(f"ValueSet {origin}: compose.exclude is not supported")
        for include in compose["include"]:
            yield from self._expand_include(include, origin)

    def _expand_include(self, include: JsonObject, origin: str) -> Iterator[Code]:
        system = include.get("system")
        if not isinstance(system, str) or include.get("filter") or include.get("valueSet"):
            raise PathwayContentError(
                f"ValueSet {origin}: each include needs a system and no filter or valueSet"
            )
        defined = self._code_system_displays(system)
        concepts = include.get("concept")
        if concepts is None:
            if defined is None:
                raise PathwayContentError(
                    f"ValueSet {origin}: cannot include all of {system}, which is not in the repository"
                )
            yield from (Code(system, code, display) for code, display in defined.items())
            return
        for concept in concepts:
            code = str(concept["code"])
            if defined is not None and code not in defined:
                raise PathwayContentError(f"ValueSet {origin}: {code!r} is not a code of {system}")
            display = concept.get("display") or (defined or {}).get(code)
            yield Code(system, code, display)

    def _code_system_displays(self, system: str) -> dict[str, str | None] | None:
        code_system = self._content.find("CodeSystem", system)
        if code_system is None:
            return None
        return dict(_flatten(code_system.get("concept", [])))


def _flatten(concepts: list[JsonObject]) -> Iterator[tuple[str, str | None]]:
    for concept in concepts:
        yield str(concept["code"]), concept.get("display")
        yield from _flatten(concept.get("concept", []))
