"""What a Questionnaire accepts: the items that need an answer and the codings each item allows.

Built from the Questionnaire JSON in ``questionnaires/``, so the content, not the code, decides which codes
are valid answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from stratcare.json_types import JsonObject


@dataclass(frozen=True)
class Choice:
    system: str
    code: str


@dataclass(frozen=True)
class AnswerKey:
    url: str
    version: str
    choices: dict[str, frozenset[Choice]]
    """For every answerable (non-display) item, by linkId: the codings it allows."""
    required: tuple[str, ...]
    """linkIds that must be answered, in questionnaire order."""
    questions: dict[str, str] = field(default_factory=dict)
    """How a clinician reads each item, by linkId: its number and text (``question 7 ("I feel ...")``),
    so that a reason shown on a card names the question, never the internal linkId."""

    @classmethod
    def from_questionnaire(cls, questionnaire: JsonObject) -> AnswerKey:
        choices: dict[str, frozenset[Choice]] = {}
        required: list[str] = []
        questions: dict[str, str] = {}
        for item in _walk(questionnaire.get("item", [])):
            if item.get("type") in ("display", "group"):
                continue
            link_id = str(item["linkId"])
            choices[link_id] = frozenset(_choices(item))
            questions[link_id] = _question(item)
            if item.get("required") is True:
                required.append(link_id)
        return cls(
            url=str(questionnaire["url"]),
            version=str(questionnaire["version"]),
            choices=choices,
            required=tuple(required),
            questions=questions,
        )


def _question(item: JsonObject) -> str:
    prefix = str(item.get("prefix") or "").strip().rstrip(".")
    text = str(item.get("text") or "").strip()
    if prefix and text:
        return f"question {prefix} (\u201c{text}\u201d)"
    return f"question {prefix}" if prefix else f"the question \u201c{text}\u201d"


def _walk(items: list[JsonObject]) -> Iterator[JsonObject]:
    for item in items:
        yield item
        yield from _walk(item.get("item", []))


def _choices(item: JsonObject) -> Iterator[Choice]:
    for option in item.get("answerOption", []):
        coding = option.get("valueCoding")
        if isinstance(coding, dict) and "system" in coding and "code" in coding:
            yield Choice(system=str(coding["system"]), code=str(coding["code"]))
