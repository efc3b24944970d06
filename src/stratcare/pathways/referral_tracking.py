"""Telling whether a referral stratcare proposed was signed, from the ServiceRequest the EHR holds.

The draft ServiceRequest a card suggests carries a business identifier in ``REFERRAL_IDENTIFIER_SYSTEM``
whose value is the card's uuid (a worklist referral's Task focuses on the same one): the EHR keeps
identifiers when it creates the resource, whatever id it assigns, so a later hook that prefetches (or
fetches) the patient's ServiceRequests sees the same request again, with the status the EHR has given it
since. FHIR R4 ServiceRequest.status: ``draft`` until the
clinician signs, ``active`` once signed and sent, ``completed`` when done; so ``active`` and ``completed``
mean signed (``on-hold``, ``revoked`` and ``entered-in-error`` do not).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from stratcare.json_types import JsonObject
from stratcare.pathways.referral_status import REFERRAL_IDENTIFIER_SYSTEM

SIGNED_STATUSES = frozenset({"active", "completed"})


@dataclass(frozen=True)
class ReferralStatus:
    """The status a hook saw on the ServiceRequest a card proposed."""

    card_uuid: UUID
    status: str

    @property
    def signed(self) -> bool:
        return self.status in SIGNED_STATUSES


def referral_identifier(card_uuid: UUID) -> JsonObject:
    return {"system": REFERRAL_IDENTIFIER_SYSTEM, "value": str(card_uuid)}


def with_referral_identifier(request: JsonObject, card_uuid: UUID) -> JsonObject:
    """A copy of the draft ``request`` carrying the identifier of the card that proposes it."""
    tagged = copy.deepcopy(request)
    tagged["identifier"] = [*tagged.get("identifier", []), referral_identifier(card_uuid)]
    return tagged


def _card_uuid(request: JsonObject) -> UUID | None:
    identifiers = request.get("identifier")
    for identifier in identifiers if isinstance(identifiers, list) else []:
        if isinstance(identifier, dict) and identifier.get("system") == REFERRAL_IDENTIFIER_SYSTEM:
            try:
                return UUID(str(identifier.get("value")))
            except ValueError:
                return None
    return None


def referral_statuses(service_requests: Iterable[JsonObject]) -> list[ReferralStatus]:
    """The statuses of stratcare's referrals among ``service_requests`` (the patient's own, as the record
    keeps them), one per card; when the EHR holds two requests with one card's identifier, a signed one
    counts."""
    found: dict[UUID, str] = {}
    for request in service_requests:
        card_uuid, status = _card_uuid(request), request.get("status")
        if card_uuid is None or not isinstance(status, str):
            continue
        if found.get(card_uuid) not in SIGNED_STATUSES:
            found[card_uuid] = status
    return [ReferralStatus(card_uuid, status) for card_uuid, status in found.items()]
