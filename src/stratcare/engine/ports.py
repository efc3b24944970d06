"""What the hook engine needs from the store, as small protocols (the store package implements them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from stratcare.auth.replay import TokenUse
from stratcare.cdshooks.models import Card, FeedbackItem
from stratcare.instruments.instrument_result import ScoringOutcome
from stratcare.pathways.referral_tracking import ReferralStatus
from stratcare.writeback.outbox import PendingWrite


@dataclass(frozen=True)
class HookCallFacts:
    """One hook call as recorded for audit and feedback reports (never tokens, never free text)."""

    hook_instance: UUID
    service_id: str
    hook: str
    patient_id: str
    encounter_id: str | None
    user_id: str | None
    fhir_server: str | None
    received_at: datetime
    outcome: str
    """``cards``, ``no-cards`` or ``prefetch-unavailable``."""
    clinic: str | None = None
    """The encounter's clinic for reports (its serviceProvider or location, as configured)."""
    workflow_point: str | None = None
    """Where in the workflow the hook ran (pre-visit, rooming, clinician); None: not recorded."""


@dataclass(frozen=True)
class IssuedCard:
    card: Card
    pathway_action: str
    risk_group: str | None
    referral_suggested: bool
    workflow_point: str | None = None
    """Where in the visit the card prompted the screen (CodeSystem workflow-point)."""


class HookLedger(Protocol):
    async def record(
        self,
        call: HookCallFacts,
        assessments: Sequence[ScoringOutcome],
        cards: Sequence[IssuedCard],
        writes: Sequence[PendingWrite] = (),
        referrals: Sequence[ReferralStatus] = (),
    ) -> None:
        """Store the call, its assessments, its cards, its queued write-backs and the status of earlier
        cards' referrals it saw, in one transaction.

        A write whose key is already queued (the same response scored again) is not queued twice; a
        referral status for a card not stored here, or of another patient, is ignored.
        """
        ...


class HookRecorder(Protocol):
    async def record(
        self,
        call: HookCallFacts,
        assessments: Sequence[ScoringOutcome],
        cards: Sequence[IssuedCard],
        writes: Sequence[PendingWrite] = (),
        referrals: Sequence[ReferralStatus] = (),
        *,
        token: TokenUse | None = None,
    ) -> None:
        """Store what ``HookLedger.record`` stores, durably, before returning; with ``token``, its use is
        recorded in the same transaction and ``TokenAlreadyUsed`` raised (nothing stored) when it was
        used before."""
        ...

    async def spend(self, token: TokenUse) -> None:
        """Record the token's use alone (a call that ends before anything is recorded); raises
        ``TokenAlreadyUsed`` when it was used before."""
        ...


@dataclass(frozen=True)
class CardOrigin:
    """Which service issued a stored card, and the uuids of the suggestions it offered."""

    service_id: str
    suggestions: frozenset[UUID]


class FeedbackLedger(Protocol):
    async def origins_of_cards(self, cards: set[UUID]) -> dict[UUID, CardOrigin]:
        """For each of ``cards`` issued by any service here, its origin; unknown cards are absent."""
        ...

    async def store(
        self, service_id: str, items: Sequence[FeedbackItem], received_at: datetime
    ) -> list[bool]:
        """Store each item unless already stored; True where the item was new."""
        ...


class ClinicianSupport(Protocol):
    async def annotate(
        self, clinic: str | None, clinician: str | None, now: datetime, cards: Sequence[IssuedCard]
    ) -> list[IssuedCard]:
        """``cards`` with the clinic's support for this clinician added (a prompt, links), or as they are."""
        ...


class NoClinicianSupport:
    async def annotate(
        self,
        clinic: str | None,  # noqa: ARG002
        clinician: str | None,  # noqa: ARG002
        now: datetime,  # noqa: ARG002
        cards: Sequence[IssuedCard],
    ) -> list[IssuedCard]:
        return list(cards)
