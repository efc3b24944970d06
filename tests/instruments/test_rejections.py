"""Responses that must never be scored, each with the reason reported (clinical safety)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from instruments.responses import NIH_SCREEN, PATIENT_ID, START_BACK_SYSTEM, nih_response, start_back_response
from stratcare.content import ContentRepository
from stratcare.instruments import InstrumentRegistry, ResponseRejected
from stratcare.instruments.instrument_result import InstrumentResult

HIGH_RISK = ["agree"] * 8 + ["extremely"]


@pytest.fixture(scope="module")
def catalog() -> InstrumentRegistry:
    return InstrumentRegistry.from_content(ContentRepository.load())


def rejected(
    catalog: InstrumentRegistry, response: dict[str, Any], patient_id: str = PATIENT_ID
) -> ResponseRejected:
    outcome = catalog.score(response, patient_id)
    assert isinstance(outcome, ResponseRejected), outcome
    return outcome


@pytest.mark.parametrize("status", ["in-progress", "stopped", "entered-in-error", None])
def test_a_response_that_is_not_completed(catalog: InstrumentRegistry, status: str | None) -> None:
    outcome = rejected(catalog, start_back_response(HIGH_RISK, status=status))
    (reason,) = outcome.reasons
    assert reason.startswith("the questionnaire was not completed: ")
    assert reason.endswith("; only a completed questionnaire is scored")
    assert "in-progress" not in reason
    assert "None" not in reason


def test_an_in_progress_status_is_said_in_words(catalog: InstrumentRegistry) -> None:
    outcome = rejected(catalog, start_back_response(HIGH_RISK, status="in-progress"))
    assert outcome.reasons == (
        "the questionnaire was not completed: it is still in progress (not submitted); "
        "only a completed questionnaire is scored",
    )


def test_an_amended_response_is_complete_and_scored(catalog: InstrumentRegistry) -> None:
    assert isinstance(
        catalog.score(start_back_response(HIGH_RISK, status="amended"), PATIENT_ID), InstrumentResult
    )


@pytest.mark.parametrize("missing", range(9))
def test_each_missing_item(catalog: InstrumentRegistry, missing: int) -> None:
    response = start_back_response(HIGH_RISK)
    del response["item"][missing]
    (reason,) = rejected(catalog, response).reasons
    assert reason.startswith(f"question {missing + 1} (\u201c")
    assert reason.endswith("\u201d) is not answered")
    assert "sb-" not in reason


def test_a_missing_item_is_named_by_its_number_and_text(catalog: InstrumentRegistry) -> None:
    response = start_back_response(HIGH_RISK)
    del response["item"][6]
    assert rejected(catalog, response).reasons == (
        "question 7 (\u201cI feel that my back pain is terrible and it\u2019s never going to get any "
        "better\u201d) is not answered",
    )


def test_an_item_present_without_an_answer_is_missing(catalog: InstrumentRegistry) -> None:
    response = start_back_response(HIGH_RISK)
    response["item"][4] = {"linkId": "sb-5"}
    assert rejected(catalog, response).reasons[0].startswith("question 5 (")


@pytest.mark.parametrize(
    ("system", "code"),
    [
        (START_BACK_SYSTEM, "maybe"),
        ("http://loinc.org", "agree"),
        (START_BACK_SYSTEM, "very-much"),  # a code of item 9 given for item 1
    ],
)
def test_a_code_not_in_the_questionnaire(catalog: InstrumentRegistry, system: str, code: str) -> None:
    response = start_back_response(HIGH_RISK)
    response["item"][0]["answer"] = [{"valueCoding": {"system": system, "code": code}}]
    (reason,) = rejected(catalog, response).reasons
    assert reason.startswith("question 1 (")
    assert reason.endswith("has an answer that is not one of its options")


def test_a_coding_without_system_is_not_guessed(catalog: InstrumentRegistry) -> None:
    response = start_back_response(HIGH_RISK)
    response["item"][0]["answer"] = [{"valueCoding": {"code": "agree"}}]
    assert "not one of its options" in rejected(catalog, response).reasons[0]


def test_a_non_coded_answer(catalog: InstrumentRegistry) -> None:
    response = start_back_response(HIGH_RISK)
    response["item"][8]["answer"] = [{"valueInteger": 4}]
    (reason,) = rejected(catalog, response).reasons
    assert reason.startswith("question 9 (")
    assert reason.endswith("is not answered with one of its options")


def test_two_answers_to_one_item(catalog: InstrumentRegistry) -> None:
    response = start_back_response(HIGH_RISK)
    response["item"][0]["answer"].append({"valueCoding": {"system": START_BACK_SYSTEM, "code": "disagree"}})
    (reason,) = rejected(catalog, response).reasons
    assert reason.startswith("question 1 (")
    assert reason.endswith("has 2 answers; it takes one")


def test_an_item_answered_twice(catalog: InstrumentRegistry) -> None:
    response = start_back_response(HIGH_RISK)
    response["item"].append(copy.deepcopy(response["item"][0]))
    (reason,) = rejected(catalog, response).reasons
    assert reason.startswith("question 1 (")
    assert reason.endswith("is answered more than once")


def test_an_unknown_item(catalog: InstrumentRegistry) -> None:
    response = start_back_response(HIGH_RISK)
    response["item"].append({"linkId": "sb-10", "answer": [{"valueBoolean": True}]})
    assert rejected(catalog, response).reasons == ("it answers a question that is not in the questionnaire",)


@pytest.mark.parametrize(
    "subject",
    [
        {"reference": "Patient/someone-else"},
        {"reference": "https://ehr.example.org/fhir/Patient/someone-else"},
        {"reference": "Group/pat-1"},
    ],
)
def test_another_patients_response(catalog: InstrumentRegistry, subject: dict[str, str]) -> None:
    outcome = rejected(catalog, start_back_response(HIGH_RISK, subject=subject))
    assert outcome.reasons == ("the response belongs to another patient than the one in context",)


@pytest.mark.parametrize(
    "subject",
    [
        {"reference": "Patient/pat-1"},
        {"reference": "https://ehr.example.org/fhir/Patient/pat-1"},
        {"reference": "Patient/pat-1/_history/4"},
    ],
)
def test_the_patients_own_response_in_any_reference_form(
    catalog: InstrumentRegistry, subject: dict[str, str]
) -> None:
    assert isinstance(
        catalog.score(start_back_response(HIGH_RISK, subject=subject), PATIENT_ID), InstrumentResult
    )


def test_a_response_without_subject(catalog: InstrumentRegistry) -> None:
    response = start_back_response(HIGH_RISK)
    del response["subject"]
    assert rejected(catalog, response).reasons == ("the response names no patient as its subject",)


def test_another_version_of_the_questionnaire(catalog: InstrumentRegistry) -> None:
    response = start_back_response(
        HIGH_RISK, questionnaire="http://stratcare.org/fhir/Questionnaire/start-back|2.0"
    )
    assert "answers version 2.0" in rejected(catalog, response).reasons[0]


def test_an_unversioned_canonical_is_accepted(catalog: InstrumentRegistry) -> None:
    response = start_back_response(
        HIGH_RISK, questionnaire="http://stratcare.org/fhir/Questionnaire/start-back"
    )
    assert isinstance(catalog.score(response, PATIENT_ID), InstrumentResult)


def test_an_unknown_questionnaire(catalog: InstrumentRegistry) -> None:
    response = start_back_response(HIGH_RISK, questionnaire="http://example.org/Questionnaire/other")
    assert "no instrument is known" in rejected(catalog, response).reasons[0]


def test_a_response_without_id(catalog: InstrumentRegistry) -> None:
    response = start_back_response(HIGH_RISK)
    del response["id"]
    assert "no id" in rejected(catalog, response).reasons[0]


def test_every_problem_is_reported_at_once(catalog: InstrumentRegistry) -> None:
    response = start_back_response(HIGH_RISK, status="in-progress", subject={"reference": "Patient/x"})
    del response["item"][2]
    assert len(rejected(catalog, response).reasons) == 3


def test_nested_group_items_are_read(catalog: InstrumentRegistry) -> None:
    response = start_back_response(HIGH_RISK)
    response["item"] = [{"linkId": "group", "item": response["item"]}]
    # A group linkId that carries no answer is not an answer; the nested items are.
    assert isinstance(catalog.score(response, PATIENT_ID), InstrumentResult)


def test_nih_incomplete(catalog: InstrumentRegistry) -> None:
    response = nih_response("gt-5y", "every-day")
    response["item"].pop()
    outcome = rejected(catalog, response)
    assert outcome.instrument == NIH_SCREEN
    assert outcome.reasons == (
        "question 2 (\u201cHow often has low back pain been an ongoing problem for you over the past 6 "
        "months?\u201d) is not answered",
    )


@pytest.mark.parametrize("garbage", [{"item": "nope"}, {"item": [1, "x", None]}, {"item": [{"linkId": 5}]}])
def test_garbage_items_are_rejected_not_crashed_on(
    catalog: InstrumentRegistry, garbage: dict[str, Any]
) -> None:
    assert rejected(catalog, start_back_response(HIGH_RISK, **garbage)).reasons


def test_without_a_version_id_the_last_update_names_the_version(catalog: InstrumentRegistry) -> None:
    """An amended response must not share its first version's write-back identity."""
    first = start_back_response(HIGH_RISK, meta={"lastUpdated": "2026-11-20T09:00:00Z"})
    amended = start_back_response(HIGH_RISK, meta={"lastUpdated": "2026-11-21T10:00:00Z"}, status="amended")
    versions = [catalog.score(response, PATIENT_ID).source.version_id for response in (first, amended)]
    assert versions == ["2026-11-20T09:00:00Z", "2026-11-21T10:00:00Z"]
    assert catalog.score(start_back_response(HIGH_RISK, meta={}), PATIENT_ID).source.version_id is None
