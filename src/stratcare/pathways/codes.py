"""Typed FHIR Coding and CodeableConcept values read from content files."""

from __future__ import annotations

from dataclasses import dataclass

from stratcare.json_types import JsonObject
from stratcare.pathways.errors import PathwayContentError


@dataclass(frozen=True)
class Code:
    """A FHIR Coding with the system and code every project coding must carry."""

    system: str
    code: str
    display: str | None = None

    @classmethod
    def from_json(cls, coding: object, origin: str) -> Code:
        if not isinstance(coding, dict):
            raise PathwayContentError(f"{origin}: a Coding must be an object")
        system, code, display = coding.get("system"), coding.get("code"), coding.get("display")
        if not isinstance(system, str) or not isinstance(code, str):
            raise PathwayContentError(f"{origin}: every Coding needs a system and a code")
        return cls(system=system, code=code, display=display if isinstance(display, str) else None)

    def to_json(self) -> JsonObject:
        coding: JsonObject = {"system": self.system, "code": self.code}
        if self.display:
            coding["display"] = self.display
        return coding


@dataclass(frozen=True)
class Concept:
    """A FHIR CodeableConcept with at least one coding."""

    codings: tuple[Code, ...]
    text: str | None = None

    @classmethod
    def from_json(cls, concept: object, origin: str) -> Concept:
        if not isinstance(concept, dict) or not isinstance(concept.get("coding"), list):
            raise PathwayContentError(f"{origin}: a CodeableConcept needs a coding list")
        codings = tuple(Code.from_json(coding, origin) for coding in concept["coding"])
        if not codings:
            raise PathwayContentError(f"{origin}: a CodeableConcept needs at least one coding")
        text = concept.get("text")
        return cls(codings=codings, text=text if isinstance(text, str) else None)

    def to_json(self) -> JsonObject:
        concept: JsonObject = {"coding": [coding.to_json() for coding in self.codings]}
        if self.text:
            concept["text"] = self.text
        return concept
