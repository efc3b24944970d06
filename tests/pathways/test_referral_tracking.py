"""Whether stratcare's referrals were signed, read from the ServiceRequests a later hook sees."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from stratcare.pathways.referral_status import REFERRAL_IDENTIFIER_SYSTEM
from stratcare.pathways.referral_tracking import (
    ReferralStatus,
    referral_statuses,
    with_referral_identifier,
)

CARD = UUID("6f1c8f4e-2f43-4a4e-9d0f-0b0c1b3c1a11")


def request(status: str, card: UUID | str = CARD, **extra: Any) -> dict[str, Any]:
    identifier = {"system": REFERRAL_IDENTIFIER_SYSTEM, "value": str(card)}
    return {"resourceType": "ServiceRequest", "status": status, "identifier": [identifier], **extra}


class TestReferralStatuses:
    @pytest.mark.parametrize(
        ("status", "signed"),
        [("draft", False), ("active", True), ("completed", True), ("on-hold", False), ("revoked", False)],
    )
    def test_active_and_completed_are_signed(self, status: str, signed: bool) -> None:
        [seen] = referral_statuses([request(status)])
        assert seen == ReferralStatus(CARD, status)
        assert seen.signed is signed

    def test_requests_without_stratcares_identifier_are_not_ours(self) -> None:
        other = {"resourceType": "ServiceRequest", "status": "active"}
        foreign = request("active") | {"identifier": [{"system": "http://ehr.example.org", "value": "1"}]}
        assert referral_statuses([other, foreign, request("active", card="not-a-uuid")]) == []

    def test_a_signed_copy_counts_over_an_unsigned_one(self) -> None:
        assert referral_statuses([request("draft"), request("active"), request("revoked")]) == [
            ReferralStatus(CARD, "active")
        ]

    def test_one_status_per_card(self) -> None:
        second = uuid4()
        found = referral_statuses([request("draft"), request("completed", card=second)])
        assert found == [ReferralStatus(CARD, "draft"), ReferralStatus(second, "completed")]


def test_tagging_keeps_the_requests_identifiers_and_leaves_the_draft_alone() -> None:
    draft = {"resourceType": "ServiceRequest", "identifier": [{"system": "s", "value": "v"}]}
    tagged = with_referral_identifier(draft, CARD)
    assert tagged["identifier"] == [
        {"system": "s", "value": "v"},
        {"system": REFERRAL_IDENTIFIER_SYSTEM, "value": str(CARD)},
    ]
    assert draft["identifier"] == [{"system": "s", "value": "v"}]
