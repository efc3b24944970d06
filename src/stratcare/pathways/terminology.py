"""ValueSet membership and expansion over the repository's terminology files.

Supported ``compose.include`` forms: a ``system`` with an enumerated ``concept`` list; a ``system`` alone
(every concept of a CodeSystem the repository holds); or a ``system`` with one hierarchy ``filter``
(property ``concept``, op ``is-a`` or ``descendent-of``). Hierarchy filters are evaluated

- for ICD-10 and ICD-10-CM, from the code's structure (``icd10``): M48.50XA is-a M48.5;
- for any other code system (SNOMED CT), from answers a terminology server gave before evaluation
  (``subsumption``), and otherwise from the ValueSet's shipped ``expansion``, which such a ValueSet must
  carry: the fallback when no server is configured or it does not answer in time.

Membership (``contains``, FHIRPath ``memberOf``) is therefore the path pathway conditions use. ``expand``
lists members and is only for enumerated ValueSets (override reasons): a filtered ValueSet has members that
cannot be listed (every child code of a category), so ``expand`` refuses it rather than return a partial
list. Anything else (several filters in one include, other filter operators, imported ValueSets, excludes,
an unknown ValueSet or CodeSystem) raises instead of silently matching fewer codes: a red-flag ValueSet
that quietly loses codes misses red flags.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from stratcare.content import ContentError, ContentRepository
from stratcare.json_types import JsonObject
from stratcare.pathways import icd10
from stratcare.pathways.codes import Code
from stratcare.pathways.errors import PathwayContentError
from stratcare.pathways.subsumption import NO_ANSWERS, KnownSubsumptions, Subsumption

HIERARCHY_OPERATORS = frozenset({"is-a", "descendent-of"})


@dataclass(frozen=True)
class _Filter:
    op: str
    value: str


@dataclass(frozen=True)
class _Include:
    system: str
    concepts: tuple[Code, ...]
    filter: _Filter | None

    def holds(self, code: str, answers: KnownSubsumptions) -> bool:
        """Whether ``code`` is in this include (shipped expansions are checked by the caller)."""
        if self.filter is None:
            return any(_same(self.system, code, concept.code) for concept in self.concepts)
        op, value = self.filter.op, self.filter.value
        if _same(self.system, code, value):
            return op == "is-a"
        if self.system in icd10.ICD10_SYSTEMS:
            return icd10.is_a(code, value)
        return answers.get(Subsumption(self.system, value, code), False)


def _same(system: str, code: str, other: str) -> bool:
    if system in icd10.ICD10_SYSTEMS:
        return icd10.same_code(code, other)
    return code == other


@dataclass(frozen=True)
class _ValueSet:
    url: str
    includes: tuple[_Include, ...]
    shipped: frozenset[tuple[str, str]]
    """``(system, code)`` of the shipped expansion: the fallback for server-resolved filters."""

    def server_filters(self) -> Iterator[_Include]:
        return (i for i in self.includes if i.filter and i.system not in icd10.ICD10_SYSTEMS)


class Terminology:
    """Reads ValueSets once, on first use, and answers membership questions."""

    def __init__(self, content: ContentRepository) -> None:
        self._content = content
        self._value_sets: dict[str, _ValueSet] = {}

    def check(self, value_set: str) -> None:
        """Raise PathwayContentError unless ``value_set`` exists and can be evaluated."""
        self._value_set(value_set)

    def expand(self, value_set: str) -> tuple[Code, ...]:
        """Every code of an enumerated ValueSet, with its display (from the ValueSet, else the CodeSystem)."""
        parsed = self._value_set(value_set)
        if any(include.filter for include in parsed.includes):
            raise PathwayContentError(
                f"ValueSet {value_set} is defined by hierarchy filters: its members can be tested "
                "(memberOf), not listed"
            )
        return tuple(concept for include in parsed.includes for concept in include.concepts)

    def contains(
        self, value_set: str, system: str, code: str, answers: KnownSubsumptions = NO_ANSWERS
    ) -> bool:
        """Whether ``system|code`` is in the ValueSet, given the terminology server's ``answers``."""
        parsed = self._value_set(value_set)
        includes = [include for include in parsed.includes if include.system == system]
        if any(include.holds(code, answers) for include in includes):
            return True
        server_resolved = any(i.filter for i in includes if system not in icd10.ICD10_SYSTEMS)
        return server_resolved and (system, code) in parsed.shipped

    def hierarchy_questions(self, codings: Iterable[tuple[str, str]]) -> frozenset[Subsumption]:
        """What a terminology server must answer for ``codings`` (``system, code``) under the ValueSets
        read so far, leaving out what is decided without it (the concept itself, the shipped expansion)."""
        wanted = set(codings)
        questions: set[Subsumption] = set()
        for parsed in self._value_sets.values():
            for include in parsed.server_filters():
                ancestor = include.filter.value if include.filter else ""
                questions.update(
                    Subsumption(system, ancestor, code)
                    for system, code in wanted
                    if system == include.system and code != ancestor and (system, code) not in parsed.shipped
                )
        return frozenset(questions)

    def _value_set(self, value_set: str) -> _ValueSet:
        if value_set not in self._value_sets:
            try:
                resource = self._content.resolve("ValueSet", value_set)
            except ContentError as exc:
                raise PathwayContentError(f"unknown ValueSet {value_set!r}") from exc
            self._value_sets[value_set] = self._parse(resource, value_set)
        return self._value_sets[value_set]

    def _parse(self, resource: JsonObject, origin: str) -> _ValueSet:
        compose = resource.get("compose")
        if not isinstance(compose, dict) or not isinstance(compose.get("include"), list):
            raise PathwayContentError(f"ValueSet {origin}: needs compose.include")
        if compose.get("exclude"):
            raise PathwayContentError(f"ValueSet {origin}: compose.exclude is not supported")
        includes = tuple(self._include(include, origin) for include in compose["include"])
        shipped = frozenset(_shipped_expansion(resource.get("expansion")))
        parsed = _ValueSet(url=origin, includes=includes, shipped=shipped)
        for include in parsed.server_filters():
            if not any(system == include.system for system, _ in shipped):
                raise PathwayContentError(
                    f"ValueSet {origin}: a hierarchy filter on {include.system} needs a shipped "
                    "expansion of that system's concepts, the fallback when no terminology server answers"
                )
        return parsed

    def _include(self, include: JsonObject, origin: str) -> _Include:
        system = include.get("system")
        if not isinstance(system, str) or include.get("valueSet"):
            raise PathwayContentError(f"ValueSet {origin}: each include needs a system and no valueSet")
        filters = include.get("filter")
        if filters:
            if include.get("concept"):
                raise PathwayContentError(f"ValueSet {origin}: an include has concepts or a filter, not both")
            return _Include(system=system, concepts=(), filter=_hierarchy_filter(filters, system, origin))
        return _Include(system=system, concepts=self._concepts(include, system, origin), filter=None)

    def _concepts(self, include: JsonObject, system: str, origin: str) -> tuple[Code, ...]:
        defined = self._code_system_displays(system)
        concepts = include.get("concept")
        if concepts is None:
            if defined is None:
                raise PathwayContentError(
                    f"ValueSet {origin}: cannot include all of {system}, which is not in the repository"
                )
            return tuple(Code(system, code, display) for code, display in defined.items())
        codes = []
        for concept in concepts:
            code = str(concept["code"])
            if defined is not None and code not in defined:
                raise PathwayContentError(f"ValueSet {origin}: {code!r} is not a code of {system}")
            codes.append(Code(system, code, concept.get("display") or (defined or {}).get(code)))
        return tuple(codes)

    def _code_system_displays(self, system: str) -> dict[str, str | None] | None:
        code_system = self._content.find("CodeSystem", system)
        if code_system is None:
            return None
        return dict(_flatten(code_system.get("concept", [])))


def _hierarchy_filter(filters: object, system: str, origin: str) -> _Filter:
    if not isinstance(filters, list) or len(filters) != 1 or not isinstance(filters[0], dict):
        raise PathwayContentError(f"ValueSet {origin}: one filter per include (use several includes)")
    raw = filters[0]
    op, value = raw.get("op"), raw.get("value")
    if raw.get("property") != "concept" or op not in HIERARCHY_OPERATORS or not isinstance(value, str):
        raise PathwayContentError(
            f"ValueSet {origin}: only 'concept' filters with op is-a or descendent-of are supported"
        )
    if system in icd10.ICD10_SYSTEMS and not icd10.is_valid_ancestor(value):
        raise PathwayContentError(f"ValueSet {origin}: {value!r} is not an ICD-10 code or block")
    return _Filter(op=str(op), value=value)


def _shipped_expansion(expansion: object) -> Iterator[tuple[str, str]]:
    if not isinstance(expansion, dict):
        return
    yield from _contains(expansion.get("contains", []))


def _contains(entries: list[JsonObject]) -> Iterator[tuple[str, str]]:
    for entry in entries:
        system, code = entry.get("system"), entry.get("code")
        if isinstance(system, str) and isinstance(code, str):
            yield system, code
        yield from _contains(entry.get("contains", []))


def _flatten(concepts: list[JsonObject]) -> Iterator[tuple[str, str | None]]:
    for concept in concepts:
        yield str(concept["code"]), concept.get("display")
        yield from _flatten(concept.get("concept", []))
