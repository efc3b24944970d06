"""Which Conditions count as active for a pathway.

Rule (FHIR R4 Condition; code systems condition-clinical and condition-ver-status,
https://hl7.org/fhir/R4/codesystem-condition-clinical.html and
https://hl7.org/fhir/R4/codesystem-condition-ver-status.html): a Condition is active when its
clinicalStatus is ``active`` or one of its specialisations ``recurrence`` and ``relapse``, and its
verificationStatus is neither ``entered-in-error`` nor ``refuted``. Provisional and differential diagnoses
stay in: a suspected cauda equina syndrome is exactly the red flag that must not be missed. A Condition
without a clinicalStatus is not active (R4 requires one unless the record was entered in error).
"""

from __future__ import annotations

from collections.abc import Iterable

from stratcare.json_types import JsonObject

CLINICAL_STATUS_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION_STATUS_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ACTIVE_CLINICAL_STATUSES = frozenset({"active", "recurrence", "relapse"})
DISCOUNTED_VERIFICATION_STATUSES = frozenset({"entered-in-error", "refuted"})


def _codes(concept: object, system: str) -> set[str]:
    if not isinstance(concept, dict):
        return set()
    return {
        str(coding.get("code"))
        for coding in concept.get("coding", [])
        if isinstance(coding, dict) and coding.get("system") == system
    }


def is_active_condition(condition: JsonObject) -> bool:
    """Whether ``condition`` is active under the rule in this module's docstring."""
    clinical = _codes(condition.get("clinicalStatus"), CLINICAL_STATUS_SYSTEM)
    verification = _codes(condition.get("verificationStatus"), VERIFICATION_STATUS_SYSTEM)
    return bool(clinical & ACTIVE_CLINICAL_STATUSES) and not (verification & DISCOUNTED_VERIFICATION_STATUSES)


def active_conditions(conditions: Iterable[JsonObject]) -> list[JsonObject]:
    """The active Conditions among ``conditions``, in their original order."""
    return [condition for condition in conditions if is_active_condition(condition)]
