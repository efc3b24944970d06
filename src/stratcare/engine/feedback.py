"""Receives CDS Hooks feedback item by item: each item on a card this service issued is stored once, and
every other item is refused on its own, so one bad item never costs the batch its valid ones.

CDS Hooks 2.0 ("Feedback") defines the request only; it says a service "may receive feedback for the same
card instance multiple times", so a repeat is reported as a duplicate, not as an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args
from uuid import UUID

from pydantic import BaseModel, Field

from stratcare.cdshooks.models import FeedbackItem, FeedbackRequest
from stratcare.cdshooks.services import ServiceRegistry
from stratcare.engine.ports import CardOrigin, FeedbackLedger

logger = logging.getLogger(__name__)

ItemResult = Literal["stored", "duplicate", "refused"]
RESULTS: tuple[ItemResult, ...] = get_args(ItemResult)
RefusalReason = Literal["unknown-card", "card-of-another-service", "unknown-suggestion"]


class FeedbackItemResult(BaseModel):
    """What became of one item of the batch, in request order."""

    index: int = Field(description="Position of the item in the request's feedback array.")
    card: UUID
    result: ItemResult = Field(
        description="stored: new; duplicate: the same item was already stored; refused: not stored."
    )
    reason: RefusalReason | None = Field(default=None, description="Why a refused item was not stored.")
    diagnostics: str | None = Field(default=None, description="The refusal in one sentence.")


class FeedbackReceipt(BaseModel):
    """Counts of new, repeated and refused items, and the result of each item."""

    stored: int
    duplicates: int
    refused: int
    items: list[FeedbackItemResult]


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
        items = request.feedback
        async with self._unit_of_work() as ledger:
            origins = await ledger.origins_of_cards({item.card for item in items})
            refusals = [_refusal(service_id, item, origins.get(item.card)) for item in items]
            accepted = [index for index, refusal in enumerate(refusals) if refusal is None]
            new = await ledger.store(service_id, [items[index] for index in accepted], self._clock())
        receipt = _receipt(items, refusals, dict(zip(accepted, new, strict=True)))
        if receipt.refused:
            logger.info("feedback items refused", extra={"service": service_id, "count": receipt.refused})
        return receipt


@dataclass(frozen=True)
class _Refusal:
    reason: RefusalReason
    diagnostics: str


def _refusal(service_id: str, item: FeedbackItem, origin: CardOrigin | None) -> _Refusal | None:
    """Why ``item`` may not be stored, or None when it may."""
    if origin is None:
        return _Refusal("unknown-card", f"card {item.card} was not issued by this server")
    if origin.service_id != service_id:
        return _Refusal("card-of-another-service", f"card {item.card} was issued by another service")
    for accepted in item.acceptedSuggestions or []:
        if accepted.id not in origin.suggestions:
            message = f"suggestion {accepted.id} is not one of card {item.card}'s suggestions"
            return _Refusal("unknown-suggestion", message)
    return None


def _item_result(index: int, item: FeedbackItem, refusal: _Refusal | None, new: bool) -> FeedbackItemResult:
    if refusal is not None:
        return FeedbackItemResult(
            index=index,
            card=item.card,
            result="refused",
            reason=refusal.reason,
            diagnostics=refusal.diagnostics,
        )
    return FeedbackItemResult(index=index, card=item.card, result="stored" if new else "duplicate")


def _receipt(
    items: Sequence[FeedbackItem], refusals: Sequence[_Refusal | None], new_by_index: dict[int, bool]
) -> FeedbackReceipt:
    results = [
        _item_result(index, item, refusal, new_by_index.get(index, False))
        for index, (item, refusal) in enumerate(zip(items, refusals, strict=True))
    ]
    count = {kind: sum(1 for result in results if result.result == kind) for kind in RESULTS}
    return FeedbackReceipt(
        stored=count["stored"], duplicates=count["duplicate"], refused=count["refused"], items=results
    )
