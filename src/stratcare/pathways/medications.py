"""What a medication order orders, as the CodeableConcepts a ValueSet is tested against.

Real orders name a product, not an ingredient: an RxNorm clinical or branded drug (SCD/SBD, e.g.
"acetaminophen 325 MG / oxycodone hydrochloride 10 MG Oral Tablet [Endocet]") or a SNOMED CT medicinal
product. A ValueSet of ingredients (RxNorm IN codes) matches such an order only through what the order
itself says about its ingredients, because this repository ships no RxNorm relationships. So an order's
concepts are:

- ``MedicationRequest.medicationCodeableConcept``, every coding (an EHR may send the ingredient beside the
  product code);
- when ``medicationReference`` names a contained Medication (``#id``, as draft orders carry it): that
  Medication's ``code`` and each ``ingredient.itemCodeableConcept`` (FHIR R4 Medication.ingredient).

A product coded only at product level, with no ingredient coding, is therefore not recognised by an
ingredient ValueSet; a referenced Medication that is not contained is not fetched.
"""

from __future__ import annotations

from collections.abc import Iterable

from stratcare.json_types import JsonObject


def _concept(value: object) -> list[JsonObject]:
    return [value] if isinstance(value, dict) and isinstance(value.get("coding"), list) else []


def _contained_medication(order: JsonObject) -> JsonObject | None:
    reference = order.get("medicationReference")
    target = reference.get("reference") if isinstance(reference, dict) else None
    if not isinstance(target, str) or not target.startswith("#"):
        return None
    contained = order.get("contained")
    for resource in contained if isinstance(contained, list) else []:
        if (
            isinstance(resource, dict)
            and resource.get("resourceType") == "Medication"
            and resource.get("id") == target[1:]
        ):
            return resource
    return None


def medication_concepts(order: JsonObject) -> list[JsonObject]:
    """The CodeableConcepts a MedicationRequest orders (none for other resources)."""
    if order.get("resourceType") != "MedicationRequest":
        return []
    concepts = _concept(order.get("medicationCodeableConcept"))
    medication = _contained_medication(order)
    if medication is not None:
        concepts.extend(_concept(medication.get("code")))
        ingredients = medication.get("ingredient")
        for ingredient in ingredients if isinstance(ingredients, list) else []:
            if isinstance(ingredient, dict):
                concepts.extend(_concept(ingredient.get("itemCodeableConcept")))
    return concepts


def ordered_medications(orders: Iterable[JsonObject]) -> list[JsonObject]:
    """Every medication concept of ``orders``, in order."""
    return [concept for order in orders for concept in medication_concepts(order)]
