"""Required code bindings in FHIR content: a ``code`` element must hold one of its ValueSet's codes.

fhir.resources types such elements as plain strings and lists the allowed codes (the required binding's
ValueSet, e.g. PlanDefinition.status: draft | active | retired | unknown) without enforcing them, so a typo
such as ``"status": "bogus"`` would pass model validation; this walk over the validated model refuses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel


def invalid_codes(resource: BaseModel, path: str) -> Iterator[str]:
    """Yield ``path.element: 'value' is not one of …`` for every code outside its required binding."""
    for name, field in type(resource).model_fields.items():
        value = getattr(resource, name, None)
        if value is None:
            continue
        element = f"{path}.{field.alias or name}"
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        allowed = extra.get("enum_values")
        # fhir.resources ends a list it shortened with "+" (Questionnaire.item.type): not checkable here.
        checkable = isinstance(allowed, list) and "+" not in allowed
        yield from _check(value, element, allowed if isinstance(allowed, list) and checkable else None)


def _check(value: Any, element: str, allowed: list[Any] | None) -> Iterator[str]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _check(item, f"{element}[{index}]", allowed)
    elif isinstance(value, BaseModel):
        yield from invalid_codes(value, element)
    elif allowed is not None and isinstance(value, str) and value not in allowed:
        choices = ", ".join(str(code) for code in allowed)
        yield f"{element}: {value!r} is not one of {choices}"
