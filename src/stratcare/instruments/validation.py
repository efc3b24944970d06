"""Decide whether a QuestionnaireResponse may be scored, and collect every reason it may not.

Clinical safety: a risk result is only ever computed from a response that is complete and valid for the
exact Questionnaire it answers, and that belongs to the patient in context. Every problem is reported; none
is repaired (no defaulting of missing items, no guessing of codes).

Reasons are written for the clinician who reads them on a card: a question is named by its number and text
from the Questionnaire, never by its linkId, and a status by what it means, never by its code.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from stratcare.fhir_datetime import fhir_datetime_precision, parse_fhir_datetime, parse_instant
from stratcare.instruments.answer_key import AnswerKey, Choice
from stratcare.instruments.results import DateBasis, ResponseRejected, ResponseSource, ScreenDate
from stratcare.json_types import JsonObject

SCORABLE_STATUSES = frozenset({"completed", "amended"})
"""``amended`` is a completed response changed afterwards: still a full set of answers (FHIR R4)."""
STATUS_IN_WORDS = {
    "in-progress": "it is still in progress (not submitted)",
    "stopped": "it was stopped before it was finished",
    "entered-in-error": "it was marked as entered in error",
}


@dataclass(frozen=True)
class ValidResponse:
    source: ResponseSource
    answers: dict[str, str]
    """The chosen code for every answered item, by linkId."""


def screen_date(response: JsonObject) -> ScreenDate | None:
    """When the response was made: ``authored`` (any FHIR precision), else ``meta.lastUpdated``, else None."""
    meta = response.get("meta")
    candidates: tuple[tuple[DateBasis, object], ...] = (
        ("authored", response.get("authored")),
        ("lastUpdated", meta.get("lastUpdated") if isinstance(meta, dict) else None),
    )
    for basis, value in candidates:
        instant, precision = parse_fhir_datetime(value), fhir_datetime_precision(value)
        if instant is not None and precision is not None:
            return ScreenDate(instant=instant, precision=precision, basis=basis)
    return None


def response_source(response: JsonObject) -> ResponseSource:
    meta = response.get("meta")
    # Without a versionId, lastUpdated still tells an amended response from its first version.
    version = (meta.get("versionId") or meta.get("lastUpdated")) if isinstance(meta, dict) else None
    return ResponseSource(
        response_id=str(response.get("id") or ""),
        version_id=str(version) if version is not None else None,
        questionnaire=str(response.get("questionnaire") or ""),
        authored=parse_instant(response.get("authored")),
        dated=screen_date(response),
    )


def validate_response(
    response: JsonObject, key: AnswerKey, patient_id: str
) -> ValidResponse | ResponseRejected:
    source = response_source(response)
    reasons = [*_envelope_problems(response, key, patient_id)]
    answers, answered, answer_problems = _answers(response.get("item"), key)
    reasons.extend(answer_problems)
    reasons.extend(
        f"{_question(key, link_id)} is not answered" for link_id in key.required if link_id not in answered
    )
    if reasons:
        return ResponseRejected(source=source, instrument=key.url, reasons=tuple(reasons))
    return ValidResponse(source=source, answers=answers)


def _envelope_problems(response: JsonObject, key: AnswerKey, patient_id: str) -> Iterator[str]:
    if not response.get("id"):
        yield "the response has no id, so a result could not be traced back to it"
    status = response.get("status")
    if status not in SCORABLE_STATUSES:
        state = STATUS_IN_WORDS.get(str(status), "it is not marked as completed")
        yield f"the questionnaire was not completed: {state}; only a completed questionnaire is scored"
    canonical = str(response.get("questionnaire") or "")
    url, _, version = canonical.partition("|")
    if url != key.url:
        yield "it answers a different questionnaire"
    elif version and version != key.version:
        yield f"it answers version {version} of the questionnaire; this service scores version {key.version}"
    subject = _reference_target(response.get("subject"))
    if subject is None:
        yield "the response names no patient as its subject"
    elif subject != ("Patient", patient_id):
        yield "the response belongs to another patient than the one in context"


def _answers(items: object, key: AnswerKey) -> tuple[dict[str, str], set[str], list[str]]:
    """Valid answers by linkId, every linkId that carried an answer (valid or not), and the problems."""
    answers: dict[str, str] = {}
    answered: set[str] = set()
    problems: list[str] = []
    for item in _walk_items(items):
        link_id = item.get("linkId")
        raw_answers = item.get("answer")
        if raw_answers is None:
            continue
        if not isinstance(link_id, str) or link_id not in key.choices:
            problems.append("it answers a question that is not in the questionnaire")
            continue
        if link_id in answered:
            problems.append(f"{_question(key, link_id)} is answered more than once")
            continue
        code, problem = _single_choice(_question(key, link_id), raw_answers, key.choices[link_id])
        if code is not None or problem:
            answered.add(link_id)
        if problem:
            problems.append(problem)
        elif code is not None:
            answers[link_id] = code
    return answers, answered, problems


def _question(key: AnswerKey, link_id: str) -> str:
    return key.questions.get(link_id, "a question")


def _single_choice(question: str, raw_answers: object, allowed: frozenset[Choice]) -> tuple[str | None, str]:
    if not isinstance(raw_answers, list) or not raw_answers:
        return None, ""
    if len(raw_answers) > 1:
        return None, f"{question} has {len(raw_answers)} answers; it takes one"
    answer = raw_answers[0]
    coding = answer.get("valueCoding") if isinstance(answer, dict) else None
    if not isinstance(coding, dict):
        return None, f"{question} is not answered with one of its options"
    choice = Choice(system=str(coding.get("system")), code=str(coding.get("code")))
    if choice not in allowed:
        return None, f"{question} has an answer that is not one of its options"
    return choice.code, ""


def _walk_items(items: object) -> Iterator[JsonObject]:
    if not isinstance(items, list):
        return
    for item in items:
        if not isinstance(item, dict):
            continue
        yield item
        yield from _walk_items(item.get("item"))
        for answer in item.get("answer") or []:
            if isinstance(answer, dict):
                yield from _walk_items(answer.get("item"))


def _reference_target(reference: object) -> tuple[str, str] | None:
    """``Patient/123``, ``https://ehr/fhir/Patient/123`` or ``Patient/123/_history/2`` → (Patient, 123)."""
    if not isinstance(reference, dict) or not isinstance(reference.get("reference"), str):
        return None
    parts = reference["reference"].split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    if len(parts) < 2:
        return None
    return parts[-2], parts[-1]
