"""The capture page's HTML from Jinja2 templates, autoescaped (every Questionnaire text is escaped)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from stratcare.capture.form import Form, FormItem

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _enable_attrs(item: FormItem) -> Markup:
    if not item.conditions:
        return Markup("")
    conditions = [
        {"question": c.question, "operator": c.operator, "answer": c.answer} for c in item.conditions
    ]
    return Markup(' data-enable-when="{}" data-enable-behavior="{}"').format(
        escape(json.dumps(conditions)), item.enable_behavior
    )


class CapturePages:
    def __init__(self) -> None:
        self._environment = Environment(
            loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), auto_reload=False
        )
        self._environment.globals["enable_attrs"] = _enable_attrs

    def form(
        self,
        form: Form,
        ticket: str,
        submit_url: str,
        answers: Mapping[str, str] | None = None,
        unanswered: Sequence[FormItem] = (),
    ) -> str:
        return self._environment.get_template("form.html").render(
            title=form.title,
            form=form,
            ticket=ticket,
            submit_url=submit_url,
            answers=dict(answers or {}),
            unanswered={item.link_id for item in unanswered},
            unanswered_items=list(unanswered),
        )

    def result(self, title: str, lines: Sequence[str], first_time: bool) -> str:
        template = self._environment.get_template("result.html")
        return template.render(title=f"{title}: answers sent", lines=lines, first_time=first_time)

    def refused(self, reason: str) -> str:
        return self._environment.get_template("refused.html").render(title="Cannot open", reason=reason)
