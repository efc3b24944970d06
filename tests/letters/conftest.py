"""The spine clinic journey's two demo requests are the sample records every letter test starts from."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from stratcare.cdshooks.context import parse_context
from stratcare.cdshooks.services import ServiceRegistry
from stratcare.content import ContentRepository
from stratcare.demo.scenarios import load_scenarios
from stratcare.engine.letters_decision import SpineLettersDecider
from stratcare.engine.record import build_record
from stratcare.engine.runner import Decision

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
PRE = "spine-1-appointment-booked"
POST = "spine-2-consultation-ended"

Decide = Callable[..., Decision]


@pytest.fixture(scope="session")
def content() -> ContentRepository:
    return ContentRepository.load()


@pytest.fixture(scope="session")
def registry(content: ContentRepository) -> ServiceRegistry:
    return ServiceRegistry.from_content(content)


@pytest.fixture
def sample() -> Callable[[str], dict[str, Any]]:
    requests = {scenario.name: scenario for scenario in load_scenarios(NOW)}

    def make(name: str) -> dict[str, Any]:
        return copy.deepcopy({"service": requests[name].service, **requests[name].request})

    return make


@pytest.fixture
def decide(content: ContentRepository, registry: ServiceRegistry) -> Decide:
    def run(request: dict[str, Any], decider: SpineLettersDecider | None = None) -> Decision:
        chosen = decider or SpineLettersDecider.from_content(content, registry)
        context = parse_context(request["hook"], request["context"])
        record = build_record(request.get("prefetch") or {}, context.patientId, context.encounterId)
        return chosen.decide(registry.get(request["service"]), context, record, NOW, uuid.uuid4)

    return run
