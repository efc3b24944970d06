"""Prints CDS Hooks cards the way a person reads them in a terminal."""

from __future__ import annotations

import textwrap
from typing import Any

MARKS = {"info": "INFO", "warning": "WARNING", "critical": "CRITICAL"}


def render_response(status: int, body: dict[str, Any]) -> str:
    if status != 200:
        lines = [f"  HTTP {status}: the EHR shows no cards"]
        for issue in body.get("issue", []):
            lines.append(f"    - {issue.get('code')}: {issue.get('diagnostics')}")
        return "\n".join(lines)
    cards = body.get("cards", [])
    text = "\n\n".join(render_card(card) for card in cards) or "  (no cards: evaluated, nothing to say)"
    actions = body.get("systemActions", [])
    if actions:
        text += "\n  results written back (systemActions):"
        text += "".join(
            f"\n    {action['type']}: {_describe_result(action['resource'])}" for action in actions
        )
    return text


def _describe_result(resource: dict[str, Any]) -> str:
    name = resource.get("code", {}).get("text") or resource.get("method", {}).get("text") or ""
    if "valueInteger" in resource:
        return f"{resource['resourceType']} {name} = {resource['valueInteger']}"
    if "valueCodeableConcept" in resource:
        return f"{resource['resourceType']} {name} = {resource['valueCodeableConcept'].get('text', '')}"
    predictions = resource.get("prediction", [])
    risk = (
        predictions[0].get("qualitativeRisk", {}).get("coding", [{}])[0].get("display", "")
        if predictions
        else ""
    )
    return f"{resource['resourceType']} {name} {risk}".strip()


def render_card(card: dict[str, Any]) -> str:
    lines = [f"  [{MARKS[card['indicator']]}] {card['summary']}"]
    source = card["source"]
    lines.append(f"    source: {source['label']}")
    if "detail" in card:
        lines.append(textwrap.indent(card["detail"].strip(), "    | "))
    for suggestion in card.get("suggestions", []):
        lines.append(f"    suggestion: {suggestion['label']}")
        for action in suggestion.get("actions", []):
            lines.append(f"      {action['type']}: {_describe_resource(action.get('resource'))}")
    for link in card.get("links", []):
        lines.append(f"    link: {link['label']} <{link['url']}>")
    reasons = ", ".join(reason["display"] for reason in card.get("overrideReasons", []))
    if reasons:
        lines.append(f"    override reasons: {reasons}")
    return "\n".join(lines)


def _describe_resource(resource: dict[str, Any] | None) -> str:
    if not resource:
        return "(no resource)"
    codings = resource.get("code", {}).get("coding", [])
    what = "; ".join(coding.get("display", coding.get("code", "")) for coding in codings)
    if "intent" not in resource:
        return f"{resource['resourceType']} ({resource.get('status') or resource.get('docStatus')})"
    return f"{resource['resourceType']} ({resource.get('status')}, {resource.get('intent')}): {what}"
