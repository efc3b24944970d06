"""Receives CDS Hooks feedback: checks it refers to cards this service issued, then stores it once."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime

from pydantic import BaseModel

from stratcare.cdshooks.models import FeedbackRequest
from stratcare.cdshooks.services import ServiceRegistry
from stratcare.engine.ports import FeedbackLedger
from stratcare.errors import InvalidHookRequest, Issue


class FeedbackReceipt(BaseModel):
    """How many feedback items were new and how many repeated ones were already stored."""

    stored: int
    duplicates: int


class FeedbackService:
    def __init__(
        self,
        registry: ServiceRegistry,
        unit_of_work: Callable[[], AbstractAsyncContextManager[FeedbackLedger]],
        clock: Callable[[], datetime],
    ) -> None:
        self._registry = registry
        self._unit_of_work = unit_of_work
        self._clock = clock

    async def receive(self, service_id: str, request: FeedbackRequest) -> FeedbackReceipt:
        self._registry.get(service_id)
        async with self._unit_of_work() as ledger:
            issued = await ledger.suggestions_of_cards(service_id, {item.card for item in request.feedback})
            issues = []
            for index, item in enumerate(request.feedback):
                where = f"feedback[{index}]"
                if item.card not in issued:
                    issues.append(_issue(where + ".card", f"card {item.card} was not issued by {service_id}"))
                    continue
                for accepted in item.acceptedSuggestions or []:
                    if accepted.id not in issued[item.card]:
                        message = f"suggestion {accepted.id} is not one of card {item.card}'s suggestions"
                        issues.append(_issue(where + ".acceptedSuggestions", message))
            if issues:
                raise InvalidHookRequest("feedback refers to unknown cards or suggestions", issues)
            new = await ledger.store(service_id, request.feedback, self._clock())
        stored = sum(new)
        return FeedbackReceipt(stored=stored, duplicates=len(new) - stored)


def _issue(expression: str, message: str) -> Issue:
    return Issue(code="invalid", diagnostics=message, expression=(expression,))
