"""What a completed SMART launch opens: the card's appContext, checked against the token's patient and
encounter (the EHR's record wins)."""

from __future__ import annotations

from typing import Any

import pytest

from stratcare.capture import CaptureRefused
from stratcare.capture.smart import LaunchedContext, launch_context
from stratcare.capture.wiring import capture_launch_url
from stratcare.settings import Settings

ISS = "https://ehr.example.org/fhir"
QUESTIONNAIRE = "http://stratcare.org/fhir/Questionnaire/start-back|1.0.0"


def launched(app_context: dict[str, Any], encounter: str | None = "e-1") -> LaunchedContext:
    return LaunchedContext(
        patient_id="p-1",
        encounter_id=encounter,
        app_context=app_context,
        access_token="t",
        expires_in_seconds=300,
    )


class TestLaunchContext:
    def test_the_cards_app_context_opens_its_questionnaire_for_the_launched_record(self) -> None:
        card = {
            "questionnaire": QUESTIONNAIRE,
            "patient": "p-1",
            "encounter": "e-1",
            "workflowPoint": "rooming",
        }
        context = launch_context(ISS, launched(card))
        assert (context.patient_id, context.encounter_id, context.questionnaire) == (
            "p-1",
            "e-1",
            QUESTIONNAIRE,
        )
        assert (context.prompted, context.completed, context.launch) == ("rooming", "rooming", "smart")
        assert context.fhir_server == ISS

    def test_the_cards_encounter_is_used_when_the_launch_names_none(self) -> None:
        context = launch_context(ISS, launched({"questionnaire": QUESTIONNAIRE, "encounter": "e-9"}, None))
        assert context.encounter_id == "e-9"
        assert context.prompted == "clinician"

    @pytest.mark.parametrize(
        ("app_context", "reason"),
        [
            ({}, "which questionnaire"),
            ({"questionnaire": QUESTIONNAIRE, "patient": "p-2"}, "another patient"),
            ({"questionnaire": QUESTIONNAIRE, "encounter": "e-2"}, "another encounter"),
            ({"questionnaire": QUESTIONNAIRE, "workflowPoint": 3}, "appContext.workflowPoint"),
        ],
    )
    def test_a_context_that_does_not_fit_the_launch_is_refused(
        self, app_context: dict[str, Any], reason: str
    ) -> None:
        with pytest.raises(CaptureRefused, match=reason):
            launch_context(ISS, launched(app_context))


class TestLaunchUrl:
    def test_needs_the_public_url_and_the_client_id(self) -> None:
        both = Settings(smart_client_id="c", public_base_url="https://stratcare.example.org/")
        assert capture_launch_url(both) == "https://stratcare.example.org/capture/launch"
        assert capture_launch_url(Settings(smart_client_id="c")) is None
        assert capture_launch_url(Settings(public_base_url="https://stratcare.example.org")) is None
