"""Which appointments and encounters are spine clinic consultations about back pain, and which red flags
are active: membership in the content's ValueSets (terminology/), never codes in Python."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from stratcare.json_types import JsonObject
from stratcare.letters.fhir_text import as_list, codings, concept_text
from stratcare.pathways.active_conditions import active_conditions
from stratcare.pathways.subsumption import NO_ANSWERS, KnownSubsumptions, Subsumption
from stratcare.pathways.terminology import Terminology

SPINE_CLINIC_TYPES = "http://stratcare.org/fhir/ValueSet/spine-clinic-types"
SPINE_CONSULTATION_REASONS = "http://stratcare.org/fhir/ValueSet/spine-consultation-reasons"
RED_FLAGS = "http://stratcare.org/fhir/ValueSet/back-pain-red-flags"


@dataclass(frozen=True)
class SpineClinicCodes:
    terminology: Terminology
    clinic_types: str = SPINE_CLINIC_TYPES
    reasons: str = SPINE_CONSULTATION_REASONS
    red_flags: str = RED_FLAGS

    def _any_in(self, value_set: str, concepts: Iterable[object]) -> bool:
        return any(self.terminology.contains(value_set, system, code) for system, code in codings(concepts))

    def is_spine_clinic(self, resource: JsonObject) -> bool:
        """Appointment.serviceType/specialty, or Encounter.serviceType/type, names a spine clinic."""
        concepts = [
            *as_list(resource.get("serviceType")),
            *as_list(resource.get("specialty")),
            *as_list(resource.get("type")),
        ]
        return self._any_in(self.clinic_types, concepts)

    def is_about_back_pain(self, resource: JsonObject, conditions: Iterable[JsonObject] = ()) -> bool:
        """Its reasonCode is back pain, or (for an encounter) an active Condition is."""
        if self._any_in(self.reasons, as_list(resource.get("reasonCode"))):
            return True
        return any(
            self._any_in(self.reasons, [condition.get("code")]) for condition in active_conditions(conditions)
        )

    def red_flag_questions(self, conditions: Iterable[JsonObject]) -> frozenset[Subsumption]:
        """What a terminology server must answer to know whether these Conditions are red flags."""
        self.terminology.check(self.red_flags)
        concepts = [condition.get("code") for condition in active_conditions(conditions)]
        return self.terminology.hierarchy_questions(codings(concepts))

    def active_red_flags(
        self, conditions: Iterable[JsonObject], answers: KnownSubsumptions = NO_ANSWERS
    ) -> list[str]:
        """The names of the active Conditions in the red-flag ValueSet, with the terminology server's
        ``answers`` (a coded one without text is named by its code, so the card never hides which)."""
        names = []
        for condition in active_conditions(conditions):
            found = [
                (system, code)
                for system, code in codings([condition.get("code")])
                if self.terminology.contains(self.red_flags, system, code, answers)
            ]
            if found:
                names.append(concept_text(condition.get("code")) or f"{found[0][0]}|{found[0][1]}")
        return names
