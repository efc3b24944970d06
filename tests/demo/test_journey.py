"""The demo's pre-visit journey, step by step: booking card with the portal Task, the patient's answers
through the capture page's own form post, the response written to the EHR's FHIR server by the outbox, and
the risk card with the pended referral when the encounter starts with that response on record."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import pytest_asyncio
from rich.console import Console

from stratcare.demo.journey import JOURNEY, JourneyOutcome, play_journey
from stratcare.demo.journey_record import PATIENT
from stratcare.demo.player import play

START_BACK = "http://stratcare.org/fhir/Questionnaire/start-back|1.0.0"
STEPS = ["booked", "portal-task", "answered", "delivered", "risk-card"]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def played(tmp_path_factory: pytest.TempPathFactory) -> tuple[JourneyOutcome, str]:
    out = io.StringIO()
    console = Console(file=out, width=100, force_terminal=False, highlight=False)
    database = tmp_path_factory.mktemp("journey") / "demo.db"
    outcome = await play_journey(console, f"sqlite+aiosqlite:///{database}")
    return outcome, out.getvalue()


class TestJourney:
    def test_every_step_went_as_it_should(self, played: tuple[JourneyOutcome, str]) -> None:
        outcome, text = played
        assert outcome.steps == dict.fromkeys(STEPS, True)
        assert outcome.failures == 0
        assert "NOT AS EXPECTED" not in text
        headings = [text.index(f"\n{n}. ") for n in range(1, 6)]
        assert headings == sorted(headings)

    def test_the_booking_card_suggests_the_portal_task(self, played: tuple[JourneyOutcome, str]) -> None:
        outcome, _ = played
        (card,) = outcome.cards["start-back-appointment-book"]
        (suggestion,) = card["suggestions"]
        task = suggestion["actions"][0]["resource"]
        assert task["resourceType"] == "Task"
        assert task["owner"] == {"reference": f"Patient/{PATIENT}"}
        assert task["input"][0]["valueCanonical"] == START_BACK
        assert task["focus"] == {"reference": f"Appointment/{PATIENT}-appt"}
        assert [link["type"] for link in card["links"]] == ["smart"]

    def test_the_response_reached_the_ehr_and_completed_the_task(
        self, played: tuple[JourneyOutcome, str]
    ) -> None:
        outcome, _ = played
        (response,) = outcome.ehr.all_of("QuestionnaireResponse")
        assert response["questionnaire"] == START_BACK
        assert response["status"] == "completed"
        assert response["subject"] == response["author"] == {"reference": f"Patient/{PATIENT}"}
        (task,) = outcome.ehr.all_of("Task")
        assert task["status"] == "completed"
        assert task["output"][0]["valueReference"] == {"reference": f"QuestionnaireResponse/{response['id']}"}

    def test_the_encounter_starts_with_the_risk_card_and_its_pended_referral(
        self, played: tuple[JourneyOutcome, str]
    ) -> None:
        outcome, text = played
        (card,) = outcome.cards["start-back-encounter-start"]
        assert card["summary"].startswith("STarT Back high risk")
        (suggestion,) = card["suggestions"]
        referral = suggestion["actions"][0]["resource"]
        (response,) = outcome.ehr.all_of("QuestionnaireResponse")
        assert referral["status"] == "draft"
        assert "psychologically-informed-physiotherapy" in {c["code"] for c in referral["code"]["coding"]}
        assert {
            "reference": f"QuestionnaireResponse/{response['id']}",
            "display": "STarT Back Screening Tool response",
        } in referral["supportingInfo"]
        assert [r["resourceType"] for r in outcome.ehr.all_of("RiskAssessment")] == ["RiskAssessment"]
        assert "RiskAssessment" in text[text.index("written back to the EHR") :]


async def test_play_runs_the_journey_when_asked(tmp_path: Path) -> None:
    out = io.StringIO()
    console = Console(file=out, width=100, force_terminal=False, highlight=False)
    code = await play(
        url=None, only=[JOURNEY], database_url=f"sqlite+aiosqlite:///{tmp_path / 'd.db'}", console=console
    )
    assert code == 0
    assert f"\n{JOURNEY} " in out.getvalue()
    assert "low-risk" not in out.getvalue()
