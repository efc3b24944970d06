"""A hook call end to end over HTTP: the cards an EHR gets for each kind of patient."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from api.conftest import SERVICE

RequestFor = Callable[[str], dict[str, Any]]
RISK_WORDS = ("low risk", "medium risk", "high risk")


async def call(client: httpx.AsyncClient, body: Any, service: str = SERVICE) -> httpx.Response:
    return await client.post(f"/cds-services/{service}", json=body)


def walk(value: Any) -> list[Any]:
    found = [value]
    if isinstance(value, dict):
        for item in value.values():
            found.extend(walk(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(walk(item))
    return found


class TestDiscovery:
    async def test_lists_the_services_from_hooks_folder(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/cds-services")
        assert response.status_code == 200
        services = {service["id"]: service for service in response.json()["services"]}
        assert services[SERVICE]["hook"] == "encounter-start"
        assert services["start-back-patient-view"]["hook"] == "patient-view"
        assert "planDefinition" not in services[SERVICE]
        assert services[SERVICE]["prefetch"]["patient"] == "Patient/{{context.patientId}}"


class TestRiskCards:
    @pytest.mark.parametrize(
        ("scenario", "risk", "indicator", "referral"),
        [
            ("low-risk", "low risk", "info", None),
            ("medium-risk", "medium risk", "info", "308447003"),
            ("high-risk", "high risk", "warning", "308447003"),
        ],
    )
    async def test_risk_group_card(
        self,
        client: httpx.AsyncClient,
        request_for: RequestFor,
        scenario: str,
        risk: str,
        indicator: str,
        referral: str | None,
    ) -> None:
        response = await call(client, request_for(scenario))
        assert response.status_code == 200
        (card,) = response.json()["cards"]
        assert risk in card["summary"]
        assert len(card["summary"]) < 140
        assert card["indicator"] == indicator
        uuid.UUID(card["uuid"])
        assert card["source"]["label"]
        assert "Completed on " in card["detail"]  # when the screen was done, in words
        assert "QuestionnaireResponse" not in card["detail"]
        assert all(reason.get("display") for reason in card["overrideReasons"])
        if referral is None:
            assert "suggestions" not in card
            assert card["links"]
            return
        (suggestion,) = card["suggestions"]
        uuid.UUID(suggestion["uuid"])
        assert card["selectionBehavior"] in ("at-most-one", "any")
        (action,) = suggestion["actions"]
        request = action["resource"]
        assert action["type"] == "create"
        assert request["resourceType"] == "ServiceRequest"
        assert request["status"] == "draft"
        patient = request_for(scenario)["context"]["patientId"]
        assert request["subject"] == {"reference": f"Patient/{patient}"}
        assert request["encounter"] == {"reference": f"Encounter/{patient}-enc"}
        assert request["category"][0]["coding"]
        assert referral in {coding["code"] for coding in request["code"]["coding"]}
        assert f"QuestionnaireResponse/{patient}-sb" in [
            info["reference"] for info in request["supportingInfo"]
        ]

    async def test_no_null_or_empty_value_anywhere(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        for scenario in (
            "low-risk",
            "medium-risk",
            "high-risk",
            "red-flag",
            "screen-due",
            "incomplete-screen",
        ):
            body = (await call(client, request_for(scenario))).json()
            for value in walk(body["cards"]):
                assert value is not None
                assert value not in ("", [], {})


class TestSafety:
    async def test_red_flag_suppresses_referral_and_is_critical(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        cards = (await call(client, request_for("red-flag"))).json()["cards"]
        assert [card["indicator"] for card in cards] == ["critical"]
        assert all("suggestions" not in card for card in cards)

    async def test_incomplete_screen_shows_no_risk(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        cards = (await call(client, request_for("incomplete-screen"))).json()["cards"]
        assert cards
        for card in cards:
            assert not any(word in card["summary"].lower() for word in RISK_WORDS)
            # The only thing offered is to screen again: never a treatment referral.
            for suggestion in card.get("suggestions", []):
                for action in suggestion["actions"]:
                    codes = {coding["code"] for coding in action["resource"]["code"]["coding"]}
                    assert codes == {"start-back-screening"}

    async def test_chronic_pain_is_stratified_as_nice_ng59_advises(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        (card, programme) = (await call(client, request_for("chronic-pain"))).json()["cards"]
        assert card["summary"].startswith("STarT Back high risk, chronic pain")
        assert card["suggestions"]
        assert "combined physical and psychological programme" in card["detail"]
        assert programme["summary"].endswith("consider a combined physical and psychological programme")
        assert programme["suggestions"], "NG59's programme is offered as a draft referral beside PIPT"

    async def test_screen_due_when_back_pain_and_no_screen(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        (card,) = (await call(client, request_for("screen-due"))).json()["cards"]
        assert "due" in card["summary"].lower()
        assert not any(word in card["summary"].lower() for word in RISK_WORDS)

    async def test_another_patients_screen_is_never_used(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        body = request_for("high-risk")
        body["context"]["patientId"] = "someone-else"
        body["context"]["encounterId"] = "someone-else-enc"
        response = await call(client, body)
        # The Patient and Encounter sent are not the ones in context: the prefetch does not fit, so 412.
        assert response.status_code == 412
        assert "cards" not in response.json()

    async def test_an_existing_referral_is_not_suggested_twice(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        first = (await call(client, request_for("high-risk"))).json()["cards"][0]
        existing = dict(first["suggestions"][0]["actions"][0]["resource"], id="sr1", status="active")
        body = request_for("high-risk")
        body["hookInstance"] = str(uuid.uuid4())
        body["prefetch"]["serviceRequests"] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": existing}],
        }
        (card,) = (await call(client, body)).json()["cards"]
        assert "suggestions" not in card


class TestPatientView:
    async def test_patient_view_runs_the_same_logic_without_an_encounter(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        body = request_for("high-risk")
        body["hook"] = "patient-view"
        del body["context"]["encounterId"]
        (card,) = (await call(client, body, "start-back-patient-view")).json()["cards"]
        assert "high risk" in card["summary"]
        assert "encounter" not in card["suggestions"][0]["actions"][0]["resource"]

    @pytest.mark.parametrize("user", ["Patient/demo-high", "RelatedPerson/carer-1"])
    async def test_a_patient_or_relative_in_a_portal_gets_no_cards(
        self, client: httpx.AsyncClient, request_for: RequestFor, user: str
    ) -> None:
        """Scores and draft orders are for clinicians; patient-view also fires in patient portals."""
        body = request_for("high-risk")
        body["hook"] = "patient-view"
        body["context"]["userId"] = user
        del body["context"]["encounterId"]
        response = await call(client, body, "start-back-patient-view")
        assert response.status_code == 200
        assert response.json() == {"cards": []}
