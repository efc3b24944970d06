"""What a submitted form answers, and which of its shown questions are still unanswered.

The server always decides completeness (the page's script is only a convenience): an answer must be one of
the item's own codings, answers to questions that ``enableWhen`` hides are dropped (FHIR forbids them), and
every required question that is shown must be answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stratcare.capture.form import AnswerChoice, Form, FormItem


@dataclass(frozen=True)
class CheckedAnswers:
    answers: dict[str, AnswerChoice]
    """The valid answer of every shown question that has one, by linkId, in questionnaire order."""
    unanswered: tuple[FormItem, ...]
    """Required questions shown but not (validly) answered, in questionnaire order."""

    @property
    def complete(self) -> bool:
        return not self.unanswered


def check_answers(form: Form, submitted: Mapping[str, str]) -> CheckedAnswers:
    valid = {
        link_id: choice
        for link_id, value in submitted.items()
        if (choice := form.choice(link_id, value)) is not None
    }
    values = {link_id: choice.value for link_id, choice in valid.items()}
    shown = _shown(form, values)
    answers = {item.link_id: valid[item.link_id] for item in shown if item.link_id in valid}
    unanswered = tuple(item for item in shown if item.required and item.link_id not in answers)
    return CheckedAnswers(answers=answers, unanswered=unanswered)


def _shown(form: Form, values: dict[str, str]) -> list[FormItem]:
    # Hiding a question can hide others that depend on it: settle until nothing changes.
    while True:
        shown = list(form.enabled_questions(values))
        kept = {item.link_id: values[item.link_id] for item in shown if item.link_id in values}
        if kept == values:
            return shown
        values = kept
