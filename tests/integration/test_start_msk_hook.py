"""STarT MSK end to end: the patient-view hook, the app over ASGI, a real FHIR server holding the record.

Without the licensed wording the tool is refused with a card that says why (never a crash, never silence);
with a (fake, test-only) wording file merged, a response is scored 0-12 and each risk group gets the
matched treatment option of the STarT MSK trial. Which tool runs for which pain site is content: switching
the clinic's tool-by-site setting sends low back pain to STarT MSK too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from instruments.responses import start_msk_response
from stratcare.settings import Settings
from support.fhir_server import FhirTestServer

from .conftest import make_settings, running_app
from .patient_records import (
    active_condition,
    as_stored,
    call_service,
    content_copy,
    create_patient,
    created_resources,
    setting_editor,
)
from .test_prefetch_search import PREFETCH_DEADLINE_SECONDS

pytestmark = pytest.mark.integration
SERVICE = "start-msk-patient-view"
PLAN_FILE = "PlanDefinition-start-msk-stratified-care.json"
START_BACK_SERVICE = "start-back-patient-view"
START_BACK_PLAN_FILE = "PlanDefinition-start-back-stratified-care.json"
ORDERS = "http://stratcare.org/fhir/CodeSystem/stratcare-orders"
ACTIVITIES = "http://stratcare.org/fhir/ActivityDefinition/"
NECK_PAIN = ("81680005", "Neck pain")
LOW_BACK_PAIN = ("279039007", "Low back pain")


@pytest.fixture
def licensed_dir(tmp_path: Path) -> Path:
    """An obviously fake wording file where a licensed site would put Keele's."""
    folder = tmp_path / "licensed"
    folder.mkdir()
    wording = {f"msk-{number}": f"FAKE TEST WORDING for STarT MSK item {number}" for number in range(1, 11)}
    (folder / "start-msk-wording.json").write_text(json.dumps(wording), encoding="utf-8")
    return folder


def settings(sqlite_url: str, **overrides: Any) -> Settings:
    return make_settings(
        sqlite_url,
        fhir_timeout_seconds=PREFETCH_DEADLINE_SECONDS,
        hook_deadline_seconds=PREFETCH_DEADLINE_SECONDS,
        **overrides,
    )


def screen(pain: int, yes_answers: int) -> dict[str, object]:
    """A STarT MSK response: item 1 pain 0-10, then ``yes_answers`` of the nine yes/no items answered yes."""
    yes = tuple(number < yes_answers for number in range(9))
    return as_stored(start_msk_response(pain, yes))


async def record(http: httpx.AsyncClient, site: tuple[str, str], *responses: dict[str, object]) -> str:
    patient, _ = await create_patient(http, [active_condition(*site), *responses])
    return patient


class TestLicensedWordingMerged:
    @pytest.mark.parametrize(
        ("pain", "yes_answers", "total", "summary", "referral"),
        [
            (3, 2, 2, "STarT MSK low risk", None),  # pain 0-4 scores 0
            (6, 5, 6, "STarT MSK medium risk", "physiotherapy-referral"),  # pain 5-6 scores 1
            (9, 7, 10, "STarT MSK high risk", "psychologically-informed-physiotherapy-referral"),  # 9-10: 3
        ],
    )
    async def test_each_risk_group_gets_its_matched_treatment_option(
        self,
        sqlite_url: str,
        fhir_server: FhirTestServer,
        fhir_http: httpx.AsyncClient,
        licensed_dir: Path,
        pain: int,
        yes_answers: int,
        total: int,
        summary: str,
        referral: str | None,
    ) -> None:
        patient = await record(fhir_http, NECK_PAIN, screen(pain, yes_answers))
        async with running_app(settings(sqlite_url, licensed_content_dir=licensed_dir)) as client:
            cards = await call_service(client, SERVICE, fhir_server, patient)
        [card] = cards
        assert card["summary"].startswith(summary), card["summary"]
        assert f"STarT MSK {total}/12" in card["detail"]
        made = created_resources(card)
        if referral is None:
            assert made == []
        else:
            [request] = made
            assert request["status"] == "draft"
            assert request["subject"] == {"reference": f"Patient/{patient}"}
            assert request["instantiatesCanonical"][0].startswith(ACTIVITIES + referral + "|")

    async def test_no_screen_yet_offers_the_screening_order(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient, licensed_dir: Path
    ) -> None:
        patient = await record(fhir_http, NECK_PAIN)
        async with running_app(settings(sqlite_url, licensed_content_dir=licensed_dir)) as client:
            [card] = await call_service(client, SERVICE, fhir_server, patient)
        assert card["summary"].startswith("STarT MSK screening is due")
        [request] = created_resources(card)
        assert request["instantiatesCanonical"][0].startswith(ACTIVITIES + "start-msk-screening-request|")


class TestWithoutLicensedWording:
    async def test_the_tool_is_refused_with_a_card_saying_why(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient
    ) -> None:
        patient = await record(fhir_http, NECK_PAIN, screen(9, 7))
        async with running_app(settings(sqlite_url)) as client:
            [card] = await call_service(client, SERVICE, fhir_server, patient)
        assert card["summary"] == "STarT MSK Tool unavailable here: licensed wording not supplied"
        assert card["indicator"] == "info"
        assert "suggestions" not in card, "no screening order for a tool that cannot be given"
        assert "licensed wording not supplied" in card["detail"]
        assert "high risk" not in card["detail"].lower(), "a refused response shows no risk group"

    async def test_without_a_response_the_card_still_says_so(
        self, sqlite_url: str, fhir_server: FhirTestServer, fhir_http: httpx.AsyncClient
    ) -> None:
        patient = await record(fhir_http, NECK_PAIN)
        async with running_app(settings(sqlite_url)) as client:
            [card] = await call_service(client, SERVICE, fhir_server, patient)
        assert card["summary"] == "STarT MSK Tool unavailable here: licensed wording not supplied"
        assert "suggestions" not in card


class TestToolBySiteSetting:
    async def test_switching_the_setting_sends_low_back_pain_to_start_msk(
        self,
        sqlite_url: str,
        fhir_server: FhirTestServer,
        fhir_http: httpx.AsyncClient,
        licensed_dir: Path,
        tmp_path: Path,
    ) -> None:
        patient = await record(fhir_http, LOW_BACK_PAIN, screen(6, 5))
        async with running_app(settings(sqlite_url, licensed_content_dir=licensed_dir)) as client:
            by_default = await call_service(client, SERVICE, fhir_server, patient)
            [start_back] = await call_service(client, START_BACK_SERVICE, fhir_server, patient)
        assert by_default == [], "low back pain stays with STarT Back under the shipped setting"
        assert start_back["summary"].startswith("STarT Back screening is due")

        msk_for_all = setting_editor("toolBySite", valueCode="stratification-tool-msk-for-all")
        edits = {PLAN_FILE: msk_for_all, START_BACK_PLAN_FILE: msk_for_all}
        content = content_copy(tmp_path / "content", edits)
        switched = settings(
            str(sqlite_url).replace(".db", "-switched.db"),
            licensed_content_dir=licensed_dir,
            content_dir=content,
        )
        async with running_app(switched) as client:
            [card] = await call_service(client, SERVICE, fhir_server, patient)
            asked_by_start_back = await call_service(client, START_BACK_SERVICE, fhir_server, patient)
        assert card["summary"].startswith("STarT MSK medium risk")
        assert asked_by_start_back == [], "the patient is not asked for both screens"
