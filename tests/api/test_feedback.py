"""Feedback: validated against the cards this service issued, stored once, repeated items not duplicated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from api.conftest import SERVICE

RequestFor = Callable[[str], dict[str, Any]]
FEEDBACK = f"/cds-services/{SERVICE}/feedback"
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
    assert first.json() == {"stored": 1, "duplicates": 0}
    again = await client.post(FEEDBACK, json={"feedback": [accepted(card)]})
    assert again.json() == {"stored": 0, "duplicates": 1}


async def test_a_repeated_item_in_one_request_is_stored_once(
    client: httpx.AsyncClient, request_for: RequestFor
) -> None:
    card = await issued_card(client, request_for, "high-risk")
    response = await client.post(FEEDBACK, json={"feedback": [accepted(card), accepted(card)]})
    assert response.json() == {"stored": 1, "duplicates": 1}


async def test_override_with_reason_and_comment(client: httpx.AsyncClient, request_for: RequestFor) -> None:
    card = await issued_card(client, request_for, "medium-risk")
    item = {
        "card": card["uuid"],
        "outcome": "overridden",
        "overrideReason": {"reason": card["overrideReasons"][0], "userComment": "seen by physio last week"},
        "outcomeTimestamp": WHEN,
    }
    assert (await client.post(FEEDBACK, json={"feedback": [item]})).json() == {"stored": 1, "duplicates": 0}


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


async def test_feedback_on_a_card_never_issued_is_400(
    client: httpx.AsyncClient, request_for: RequestFor
) -> None:
    card = await issued_card(client, request_for, "high-risk")
    item = accepted(card) | {"card": "3f1c9a52-93d4-4f4e-9b3e-0d5c3c1d7a11"}
    response = await client.post(FEEDBACK, json={"feedback": [item]})
    assert response.status_code == 400
    assert "not issued" in response.json()["issue"][0]["diagnostics"]


async def test_a_suggestion_of_another_card_is_400(
    client: httpx.AsyncClient, request_for: RequestFor
) -> None:
    card = await issued_card(client, request_for, "high-risk")
    item = accepted(card) | {"acceptedSuggestions": [{"id": card["uuid"]}]}
    assert (await client.post(FEEDBACK, json={"feedback": [item]})).status_code == 400


async def test_empty_feedback_is_400(client: httpx.AsyncClient) -> None:
    assert (await client.post(FEEDBACK, json={"feedback": []})).status_code == 400


async def test_feedback_for_unknown_service_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.post("/cds-services/nope/feedback", json={"feedback": []})).status_code in (400, 404)
