"""CPU time per call of encoding the high-risk demo answer: dict + json (before) vs the fast paths (after).

Run: ``.venv/bin/python -m bench.micro_encode`` (process CPU time, best of five rounds).
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

from fastapi.responses import JSONResponse

from bench import micro
from stratcare.api.responses import FastJSONResponse, model_response
from stratcare.api.runtime import load_content
from stratcare.cdshooks.context import parse_context
from stratcare.cdshooks.models import HookRequest, HookResponse
from stratcare.engine.record import build_record
from stratcare.pathways.subsumption import NO_ANSWERS
from stratcare.settings import Settings

CALLS = 1000

REQUESTS = Path(__file__).resolve().parents[1] / "src" / "stratcare" / "demo" / "requests"


def main() -> None:
    scenario = json.loads((REQUESTS / "high-risk.json").read_text())
    raw = json.dumps(scenario["request"]).encode()
    _, registry, decider = load_content(Settings())
    service = registry.get(scenario["service"])
    request = HookRequest.model_validate_json(raw)
    context = parse_context(request.hook, request.context)
    record = build_record(request.prefetch or {}, context.patientId, context.encounterId)
    decision = decider.decide(
        service, context, record, datetime(2026, 11, 21, tzinfo=UTC), uuid.uuid4, NO_ANSWERS
    )
    response = HookResponse(cards=[issued.card for issued in decision.cards])
    _say(f"high-risk answer: {len(decision.cards)} cards, {len(response.model_dump_json())} bytes")
    as_dict = response.to_json()
    timings = {
        "before, JSONResponse(model.to_json())": lambda: JSONResponse(response.to_json()),
        "after, model_response(model)": lambda: model_response(response),
        "a dict, JSONResponse": lambda: JSONResponse(as_dict),
        "a dict, FastJSONResponse": lambda: FastJSONResponse(as_dict),
        "request, model_validate(json.loads)": lambda: HookRequest.model_validate(json.loads(raw)),
        "request, model_validate_json(bytes)": lambda: HookRequest.model_validate_json(raw),
    }
    for label, work in timings.items():
        _say(f"  {label}: {micro.per_call_ms(work, CALLS):.3f} ms")


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


if __name__ == "__main__":
    main()
