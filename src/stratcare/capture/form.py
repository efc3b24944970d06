"""A Questionnaire as a form to fill: its questions, answer options, groups and ``enableWhen`` conditions.

Read from the Questionnaire the instrument registry offers (licensed wording merged in), so the page shows
exactly the items and codings the scorer accepts. Only what the project's Questionnaires use is supported:
``display``, ``group``, ``choice`` with ``answerOption.valueCoding``, and ``enableWhen`` on a coding
(``=``, ``!=``, ``exists``); anything else is refused when the form is built, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from stratcare.json_types import JsonObject


class UnsupportedQuestionnaire(Exception):
    """The Questionnaire uses an item type or condition this form cannot render faithfully."""


@dataclass(frozen=True)
class AnswerChoice:
    system: str
    code: str
    display: str

    @property
    def value(self) -> str:
        """The form field's value: one string that names the coding exactly."""
        return f"{self.system}|{self.code}"


@dataclass(frozen=True)
class Condition:
    question: str
    operator: str
    """``=``, ``!=`` or ``exists``."""
    answer: str | None
    """The coding as ``system|code`` (``=``/``!=``); for ``exists``, ``"true"`` or ``"false"``."""

    def holds(self, answers: Mapping[str, str]) -> bool:
        given = answers.get(self.question)
        if self.operator == "exists":
            return (given is not None) == (self.answer == "true")
        if given is None:
            return False
        return (given == self.answer) == (self.operator == "=")


@dataclass(frozen=True)
class FormItem:
    link_id: str
    kind: str
    """``display``, ``group`` or ``choice``."""
    text: str
    required: bool
    choices: tuple[AnswerChoice, ...]
    children: tuple[FormItem, ...]
    conditions: tuple[Condition, ...]
    enable_behavior: str
    """``all`` or ``any`` (FHIR's default when one condition: all)."""

    def enabled(self, answers: Mapping[str, str]) -> bool:
        if not self.conditions:
            return True
        results = [condition.holds(answers) for condition in self.conditions]
        return any(results) if self.enable_behavior == "any" else all(results)


@dataclass(frozen=True)
class Form:
    url: str
    version: str
    title: str
    items: tuple[FormItem, ...]

    @property
    def canonical(self) -> str:
        return f"{self.url}|{self.version}"

    def questions(self) -> Iterator[FormItem]:
        """Every answerable item, in questionnaire order."""
        yield from (item for item in _walk(self.items) if item.kind == "choice")

    def enabled_questions(self, answers: Mapping[str, str]) -> Iterator[FormItem]:
        """The questions shown for ``answers``: an item whose group is disabled is disabled too."""
        yield from _enabled(self.items, answers)

    def choice(self, link_id: str, value: str) -> AnswerChoice | None:
        for item in self.questions():
            if item.link_id == link_id:
                return next((choice for choice in item.choices if choice.value == value), None)
        return None


def read_form(questionnaire: JsonObject) -> Form:
    return Form(
        url=str(questionnaire["url"]),
        version=str(questionnaire["version"]),
        title=str(questionnaire.get("title") or questionnaire.get("name") or questionnaire["url"]),
        items=tuple(_item(item) for item in questionnaire.get("item", [])),
    )


def _item(item: JsonObject) -> FormItem:
    kind = str(item.get("type"))
    link_id = str(item["linkId"])
    if kind not in ("display", "group", "choice"):
        raise UnsupportedQuestionnaire(f"item {link_id}: type {kind!r} is not supported by the capture page")
    if item.get("repeats") is True:
        raise UnsupportedQuestionnaire(f"item {link_id}: repeating items are not supported")
    behavior = str(item.get("enableBehavior") or "all")
    return FormItem(
        link_id=link_id,
        kind=kind,
        text=str(item.get("text") or ""),
        required=item.get("required") is True,
        choices=tuple(_choices(item)),
        children=tuple(_item(child) for child in item.get("item", [])),
        conditions=tuple(_condition(link_id, condition) for condition in item.get("enableWhen", [])),
        enable_behavior=behavior,
    )


def _choices(item: JsonObject) -> Iterator[AnswerChoice]:
    for option in item.get("answerOption", []):
        coding = option.get("valueCoding")
        if not isinstance(coding, dict):
            raise UnsupportedQuestionnaire(
                f"item {item['linkId']}: only valueCoding answer options are supported"
            )
        code = str(coding["code"])
        yield AnswerChoice(str(coding["system"]), code, str(coding.get("display") or code))


def _condition(link_id: str, condition: JsonObject) -> Condition:
    operator = str(condition.get("operator"))
    question = str(condition.get("question"))
    if operator == "exists" and isinstance(condition.get("answerBoolean"), bool):
        return Condition(question, operator, "true" if condition["answerBoolean"] else "false")
    coding = condition.get("answerCoding")
    if operator in ("=", "!=") and isinstance(coding, dict):
        return Condition(question, operator, f"{coding.get('system')}|{coding.get('code')}")
    raise UnsupportedQuestionnaire(f"item {link_id}: enableWhen {operator!r} on that answer is not supported")


def _walk(items: tuple[FormItem, ...]) -> Iterator[FormItem]:
    for item in items:
        yield item
        yield from _walk(item.children)


def _enabled(items: tuple[FormItem, ...], answers: Mapping[str, str]) -> Iterator[FormItem]:
    for item in items:
        if not item.enabled(answers):
            continue
        if item.kind == "choice":
            yield item
        yield from _enabled(item.children, answers)
