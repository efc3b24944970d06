"""CPU time per call of the record check on a demo request's prefetch: structural check vs fhir.resources.

Run: ``.venv/bin/python -m bench.micro_record [request-name]`` (process CPU time, best of five rounds).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from bench import micro
from stratcare.engine.record import _empty_element, build_record, malformed_element

CALLS = 300

REQUESTS = Path(__file__).resolve().parents[1] / "src" / "stratcare" / "demo" / "requests"


def full_validation(resource: dict[str, Any]) -> str | None:
    """The check as it was: the fhir.resources model of the resource's type."""
    try:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    except ValidationError as exc:
        return str(exc.errors()[0]["loc"])
    return None


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "high-risk"
    request = json.loads((REQUESTS / f"{name}.json").read_text())["request"]
    context = request["context"]
    record = build_record(request["prefetch"], context["patientId"], context.get("encounterId"))
    resources = [
        r
        for r in [record.patient, record.encounter, *record.questionnaire_responses, *record.conditions]
        if r is not None
    ] + record.service_requests
    _say(f"{name}: {len(resources)} resources used")

    def before() -> None:
        for resource in resources:
            if _empty_element(resource) is None:
                full_validation(resource)

    def after() -> None:
        for resource in resources:
            malformed_element(resource)

    def whole() -> None:
        build_record(request["prefetch"], context["patientId"], context.get("encounterId"))

    _say(f"  before (empty scan + fhir.resources): {micro.per_call_ms(before, CALLS):.3f} ms")
    _say(f"  after (empty scan + structural check): {micro.per_call_ms(after, CALLS):.3f} ms")
    _say(f"  build_record, whole prefetch: {micro.per_call_ms(whole, CALLS):.3f} ms")


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


if __name__ == "__main__":
    main()
