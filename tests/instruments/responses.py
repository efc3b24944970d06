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
