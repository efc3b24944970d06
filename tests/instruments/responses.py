"""QuestionnaireResponses built from the shipped Questionnaires, for scoring tests."""

from __future__ import annotations

from typing import Any

START_BACK_SYSTEM = "http://stratcare.org/fhir/CodeSystem/start-back"
NIH_SYSTEM = "http://stratcare.org/fhir/CodeSystem/nih-clbp"
START_BACK = "http://stratcare.org/fhir/Questionnaire/start-back"
NIH_SCREEN = "http://stratcare.org/fhir/Questionnaire/nih-clbp-screen"
PATIENT_ID = "pat-1"


def coded_answer(system: str, code: str) -> dict[str, Any]:
    return {"valueCoding": {"system": system, "code": code}}


def response(canonical: str, answers: dict[str, str], system: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": "qr-1",
        "meta": {"versionId": "3"},
        "questionnaire": f"{canonical}|1.0.0",
        "status": "completed",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "authored": "2026-11-20T09:00:00Z",
        "item": [
            {"linkId": link_id, "answer": [coded_answer(system, code)]} for link_id, code in answers.items()
        ],
    }
    body.update(fields)
    return body


def start_back_response(codes: list[str], **fields: Any) -> dict[str, Any]:
    answers = {f"sb-{number}": code for number, code in enumerate(codes, start=1)}
    return response(START_BACK, answers, START_BACK_SYSTEM, **fields)


def nih_response(duration: str, frequency: str, **fields: Any) -> dict[str, Any]:
    answers = {"nih-duration": duration, "nih-frequency": frequency}
    return response(NIH_SCREEN, answers, NIH_SYSTEM, **fields)


LOINC = "http://loinc.org"
START_MSK_SYSTEM = "http://stratcare.org/fhir/CodeSystem/start-msk"
PHQ9 = "http://stratcare.org/fhir/Questionnaire/phq-9"
GAD7 = "http://stratcare.org/fhir/Questionnaire/gad-7"
START_MSK = "http://stratcare.org/fhir/Questionnaire/start-msk"
PHQ9_ITEMS = (
    "44250-9",
    "44255-8",
    "44259-0",
    "44254-1",
    "44251-7",
    "44258-2",
    "44252-5",
    "44253-3",
    "44260-8",
)
GAD7_ITEMS = ("69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7")
FREQUENCY = ("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9")
"""Not at all, Several days, More than half the days, Nearly every day (LOINC answer codes)."""


def frequency_response(
    canonical: str, items: tuple[str, ...], points: tuple[int, ...], **fields: Any
) -> dict[str, Any]:
    """A response answering each item with the frequency answer worth ``points`` (0-3) by the rule."""
    answers = {link_id: FREQUENCY[point] for link_id, point in zip(items, points, strict=True)}
    body = response(canonical, answers, LOINC, **fields)
    body["questionnaire"] = f"{canonical}|1.0.0"
    return body


def start_msk_response(pain: int, yes: tuple[bool, ...], **fields: Any) -> dict[str, Any]:
    answers = {"msk-1": f"nrs-{pain}"} | {
        f"msk-{number}": "yes" if answer else "no" for number, answer in enumerate(yes, start=2)
    }
    body = response(START_MSK, answers, START_MSK_SYSTEM, **fields)
    body["questionnaire"] = f"{START_MSK}|0.1.0"
    return body
