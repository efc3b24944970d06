"""Feedback: each item judged on its own against the cards issued, stored once, the rest reported."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from api.conftest import SERVICE

RequestFor = Callable[[str], dict[str, Any]]
FEEDBACK = f"/cds-services/{SERVICE}/feedback"
OTHER_SERVICE = "start-back-patient-view"
NEVER_ISSUED = "3f1c9a52-93d4-4f4e-9b3e-0d5c3c1d7a11"
WHEN = "2026-11-25T10:00:00Z"


async def issued_card(client: httpx.AsyncClient, request_for: RequestFor, scenario: str) -> dict[str, Any]:
    response = await client.post(f"/cds-services/{SERVICE}", json=request_for(scenario))
    card: dict[str, Any] = response.json()["cards"][0]
    return card


def accepted(card: dict[str, Any]) -> dict[str, Any]:
    return {
        "card": card["uuid"],
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
        "outcomeTimestamp": WHEN,
    }


async def test_accepted_feedback_is_stored_once(client: httpx.AsyncClient, request_for: RequestFor) -> None:
    card = await issued_card(client, request_for, "high-risk")
    first = await client.post(FEEDBACK, json={"feedback": [accepted(card)]})
    assert first.status_code == 200
    assert first.json() == {
        "stored": 1,
        "duplicates": 0,
        "refused": 0,
        "items": [{"index": 0, "card": card["uuid"], "result": "stored"}],
    }
    again = await client.post(FEEDBACK, json={"feedback": [accepted(card)]})
    assert again.json() == {
        "stored": 0,
        "duplicates": 1,
        "refused": 0,
        "items": [{"index": 0, "card": card["uuid"], "result": "duplicate"}],
    }


async def test_a_repeated_item_in_one_request_is_stored_once(
    client: httpx.AsyncClient, request_for: RequestFor
) -> None:
    card = await issued_card(client, request_for, "high-risk")
    response = await client.post(FEEDBACK, json={"feedback": [accepted(card), accepted(card)]})
    assert [item["result"] for item in response.json()["items"]] == ["stored", "duplicate"]


async def test_override_with_reason_and_comment(client: httpx.AsyncClient, request_for: RequestFor) -> None:
    card = await issued_card(client, request_for, "medium-risk")
    item = {
        "card": card["uuid"],
        "outcome": "overridden",
        "overrideReason": {"reason": card["overrideReasons"][0], "userComment": "seen by physio last week"},
        "outcomeTimestamp": WHEN,
    }
    assert (await client.post(FEEDBACK, json={"feedback": [item]})).json()["stored"] == 1


@pytest.mark.parametrize(
    "change",
    [
        {"outcome": "ignored"},
        {"outcome": "accepted", "acceptedSuggestions": []},
        {"outcomeTimestamp": "yesterday"},
        {"outcomeTimestamp": "2026-11-25T10:00:00"},
        {"card": "not-a-uuid"},
    ],
)
async def test_invalid_items_are_400(
    client: httpx.AsyncClient, request_for: RequestFor, change: dict[str, Any]
) -> None:
    card = await issued_card(client, request_for, "high-risk")
    response = await client.post(FEEDBACK, json={"feedback": [accepted(card) | change]})
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


def results(response: httpx.Response) -> list[tuple[str, str | None]]:
    return [(item["result"], item.get("reason")) for item in response.json()["items"]]


async def stored_count(client: httpx.AsyncClient, *items: dict[str, Any]) -> int:
    """How many of ``items`` were already stored: sending them again reports each stored one a duplicate."""
    response = await client.post(FEEDBACK, json={"feedback": list(items)})
    return sum(1 for item in response.json()["items"] if item["result"] == "duplicate")


class TestBatches:
    async def test_an_unknown_card_is_refused_alone_and_the_valid_items_are_stored(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        high = await issued_card(client, request_for, "high-risk")
        medium = await issued_card(client, request_for, "medium-risk")
        unknown = accepted(high) | {"card": NEVER_ISSUED}
        batch = [accepted(high), unknown, overridden(medium)]
        response = await client.post(FEEDBACK, json={"feedback": batch})
        assert response.status_code == 200
        body = response.json()
        assert (body["stored"], body["duplicates"], body["refused"]) == (2, 0, 1)
        assert results(response) == [("stored", None), ("refused", "unknown-card"), ("stored", None)]
        refused = body["items"][1]
        assert (refused["index"], refused["card"]) == (1, NEVER_ISSUED)
        assert "not issued" in refused["diagnostics"]
        assert await stored_count(client, accepted(high), overridden(medium)) == 2

    async def test_a_duplicate_in_a_mixed_batch_is_reported_as_a_duplicate(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        card = await issued_card(client, request_for, "high-risk")
        await client.post(FEEDBACK, json={"feedback": [accepted(card)]})
        batch = [accepted(card), accepted(card) | {"card": NEVER_ISSUED}, overridden(card)]
        response = await client.post(FEEDBACK, json={"feedback": batch})
        assert results(response) == [("duplicate", None), ("refused", "unknown-card"), ("stored", None)]

    async def test_a_card_issued_by_another_service_is_refused_for_that_item(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        mine = await issued_card(client, request_for, "high-risk")
        body = request_for("high-risk")
        body["hook"] = "patient-view"
        del body["context"]["encounterId"]
        theirs = await client.post(f"/cds-services/{OTHER_SERVICE}", json=body)
        their_card = theirs.json()["cards"][0]
        response = await client.post(FEEDBACK, json={"feedback": [accepted(their_card), accepted(mine)]})
        assert response.status_code == 200
        assert results(response) == [("refused", "card-of-another-service"), ("stored", None)]
        other_feedback = f"/cds-services/{OTHER_SERVICE}/feedback"
        owned = await client.post(other_feedback, json={"feedback": [accepted(their_card)]})
        assert results(owned) == [("stored", None)]

    async def test_a_suggestion_of_another_card_is_refused_for_that_item(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        card = await issued_card(client, request_for, "high-risk")
        foreign = accepted(card) | {"acceptedSuggestions": [{"id": card["uuid"]}]}
        response = await client.post(FEEDBACK, json={"feedback": [foreign, overridden(card)]})
        assert results(response) == [("refused", "unknown-suggestion"), ("stored", None)]

    async def test_a_batch_of_refused_items_is_still_answered_item_by_item(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        card = await issued_card(client, request_for, "high-risk")
        response = await client.post(FEEDBACK, json={"feedback": [accepted(card) | {"card": NEVER_ISSUED}]})
        assert response.status_code == 200
        assert response.json()["refused"] == 1


def overridden(card: dict[str, Any]) -> dict[str, Any]:
    return {"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": WHEN}


async def test_empty_feedback_is_400(client: httpx.AsyncClient) -> None:
    assert (await client.post(FEEDBACK, json={"feedback": []})).status_code == 400


async def test_feedback_for_unknown_service_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.post("/cds-services/nope/feedback", json={"feedback": []})).status_code in (400, 404)
