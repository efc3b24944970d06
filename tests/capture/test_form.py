"""The form read from the project's Questionnaires, completeness, enableWhen and the QuestionnaireResponse."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from stratcare.capture.answers import check_answers
from stratcare.capture.form import UnsupportedQuestionnaire, read_form
from stratcare.capture.response import WORKFLOW_POINT_EXTENSION, ResponseContext, build_response
from stratcare.capture.workflow import UnknownWorkflowPoint, WorkflowPointCodes
from stratcare.content import ContentRepository
from stratcare.instruments import InstrumentRegistry, InstrumentResult

SB = "http://stratcare.org/fhir/CodeSystem/start-back"
YN = "http://example.org/yes-no"


@pytest.fixture(scope="module")
def content() -> ContentRepository:
    return ContentRepository.load()


@pytest.fixture(scope="module")
def registry(content: ContentRepository) -> InstrumentRegistry:
    return InstrumentRegistry.from_content(content)


def start_back_answers(agree: int) -> dict[str, str]:
    answers = {f"sb-{n}": f"{SB}|{'agree' if n <= agree else 'disagree'}" for n in range(1, 9)}
    return answers | {"sb-9": f"{SB}|very-much"}


def conditional_questionnaire() -> dict[str, Any]:
    def option(code: str) -> dict[str, Any]:
        return {"valueCoding": {"system": YN, "code": code, "display": code.title()}}

    return {
        "resourceType": "Questionnaire",
        "url": "http://example.org/q",
        "version": "1",
        "status": "active",
        "item": [
            {
                "linkId": "a",
                "type": "choice",
                "required": True,
                "text": "A?",
                "answerOption": [option("yes"), option("no")],
            },
            {
                "linkId": "g",
                "type": "group",
                "text": "More",
                "enableWhen": [
                    {"question": "a", "operator": "=", "answerCoding": {"system": YN, "code": "yes"}}
                ],
                "item": [
                    {
                        "linkId": "b",
                        "type": "choice",
                        "required": True,
                        "text": "B?",
                        "answerOption": [option("yes"), option("no")],
                    }
                ],
            },
        ],
    }


class TestForm:
    def test_start_back_has_nine_required_questions_with_their_codings(
        self, registry: InstrumentRegistry
    ) -> None:
        instrument = registry.get("http://stratcare.org/fhir/Questionnaire/start-back")
        assert instrument is not None
        form = read_form(instrument.questionnaire)
        questions = list(form.questions())
        assert [q.link_id for q in questions] == [f"sb-{n}" for n in range(1, 10)]
        assert all(q.required for q in questions)
        assert [c.code for c in questions[0].choices] == ["agree", "disagree"]
        assert form.canonical == "http://stratcare.org/fhir/Questionnaire/start-back|1.0.0"

    def test_every_offered_instrument_renders(self, registry: InstrumentRegistry) -> None:
        for instrument in registry.instruments.values():
            assert list(read_form(instrument.questionnaire).questions())

    def test_start_msk_without_licensed_wording_is_not_offered(self, registry: InstrumentRegistry) -> None:
        assert "http://stratcare.org/fhir/Questionnaire/start-msk" in registry.unavailable

    def test_an_unsupported_item_type_is_refused(self) -> None:
        questionnaire = conditional_questionnaire()
        questionnaire["item"][0]["type"] = "string"
        with pytest.raises(UnsupportedQuestionnaire, match="item a"):
            read_form(questionnaire)


class TestAnswers:
    def test_missing_and_invalid_answers_are_named_in_order(self, registry: InstrumentRegistry) -> None:
        instrument = registry.get("http://stratcare.org/fhir/Questionnaire/start-back")
        assert instrument is not None
        form = read_form(instrument.questionnaire)
        answers = start_back_answers(3)
        del answers["sb-2"]
        answers["sb-7"] = f"{SB}|maybe"
        checked = check_answers(form, answers)
        assert [item.link_id for item in checked.unanswered] == ["sb-2", "sb-7"]
        assert not checked.complete

    def test_a_hidden_group_needs_no_answers_and_its_answers_are_dropped(self) -> None:
        form = read_form(conditional_questionnaire())
        checked = check_answers(form, {"a": f"{YN}|no", "b": f"{YN}|yes"})
        assert checked.complete
        assert list(checked.answers) == ["a"]

    def test_a_shown_group_needs_its_required_answers(self) -> None:
        form = read_form(conditional_questionnaire())
        checked = check_answers(form, {"a": f"{YN}|yes"})
        assert [item.link_id for item in checked.unanswered] == ["b"]


class TestResponse:
    def test_a_complete_form_becomes_a_response_the_registry_scores(
        self, registry: InstrumentRegistry, content: ContentRepository
    ) -> None:
        instrument = registry.get("http://stratcare.org/fhir/Questionnaire/start-back")
        assert instrument is not None
        form = read_form(instrument.questionnaire)
        checked = check_answers(form, start_back_answers(8))
        codes = WorkflowPointCodes.from_code_system(
            content.resolve("CodeSystem", "http://stratcare.org/fhir/CodeSystem/workflow-point")
        )
        when = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
        context = ResponseContext("r-1", "p-1", "e-1", when, codes.points("front-desk"))
        response = build_response(form, dict(checked.answers), context)
        assert response["questionnaire"] == form.canonical
        assert response["status"] == "completed"
        assert response["author"] == response["source"] == response["subject"] == {"reference": "Patient/p-1"}
        assert response["encounter"] == {"reference": "Encounter/e-1"}
        assert response["authored"] == "2026-12-01T09:30:00+00:00"
        (extension,) = response["extension"]
        assert extension["url"] == WORKFLOW_POINT_EXTENSION
        assert [e["valueCoding"]["code"] for e in extension["extension"]] == ["front-desk", "front-desk"]
        assert response["item"][0]["answer"] == [
            {"valueCoding": {"system": SB, "code": "agree", "display": "Agree"}}
        ]
        result = instrument.score(response, "p-1")
        assert isinstance(result, InstrumentResult)
        assert result.band is not None
        assert result.band.band.code == "high-risk"

    def test_the_response_is_valid_fhir(self) -> None:
        from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

        form = read_form(conditional_questionnaire())
        checked = check_answers(form, {"a": f"{YN}|yes", "b": f"{YN}|no"})
        points = WorkflowPointCodes({"rooming": "Rooming"}).points("rooming")
        response = build_response(
            form, dict(checked.answers), ResponseContext("r", "p", None, datetime.now(UTC), points)
        )
        QuestionnaireResponse.model_validate(response)
        assert "encounter" not in response
        assert response["item"][1]["item"][0]["linkId"] == "b"

    def test_an_unknown_workflow_point_is_refused(self) -> None:
        with pytest.raises(UnknownWorkflowPoint, match="kiosk"):
            WorkflowPointCodes({"rooming": "Rooming"}).points("kiosk")


def test_a_short_capture_secret_is_refused() -> None:
    from pydantic import ValidationError

    from stratcare.settings import Settings

    with pytest.raises(ValidationError, match="capture_secret"):
        Settings(capture_secret="too-short-for-hs256")
