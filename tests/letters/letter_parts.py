"""Reading the drafts back out of a Decision: the created resources and their decoded attachments."""

from __future__ import annotations

import base64
from typing import Any

from stratcare.engine.runner import Decision


def created(decision: Decision, action: str) -> list[dict[str, Any]]:
    for issued in decision.cards:
        if issued.pathway_action == action:
            suggestions = issued.card.suggestions or []
            return [a.resource for s in suggestions for a in s.actions or [] if a.resource is not None]
    raise AssertionError(f"no {action} card in {[i.pathway_action for i in decision.cards]}")


def of_type(resources: list[dict[str, Any]], resource_type: str) -> dict[str, Any]:
    return next(r for r in resources if r["resourceType"] == resource_type)


def decoded(attachment: dict[str, Any]) -> bytes:
    return base64.b64decode(attachment["data"])


def pre_letter_html(decision: Decision) -> str:
    communication = of_type(created(decision, "pre-consultation-letter"), "Communication")
    return decoded(communication["payload"][0]["contentAttachment"]).decode("utf-8")


def post_letter(decision: Decision) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    resources = created(decision, "post-consultation-letter")
    return (
        of_type(resources, "Composition"),
        of_type(resources, "DocumentReference"),
        of_type(resources, "Communication"),
    )
