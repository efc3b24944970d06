"""Shows CDS Hooks answers the way a person reads them in a terminal: card details rendered from their
Markdown, JSON as highlighted JSON (plain text when the output is not a terminal), and the card and suggestion
uuids an EHR would send back as feedback."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.json import JSON
from rich.markdown import Markdown
from rich.padding import Padding
from rich.text import Text

from stratcare.json_types import JsonObject

INDICATOR_STYLES = {"info": "bold cyan", "warning": "bold yellow", "critical": "bold white on red"}


def indented(renderable: RenderableType, spaces: int = 2) -> Padding:
    return Padding(renderable, (0, 0, 0, spaces), expand=False)


def json_block(data: object) -> RenderableType:
    return indented(JSON.from_data(data, indent=2))


def render_response(status: int, body: JsonObject) -> RenderableType:
    if status != 200:
        lines: list[RenderableType] = [Text(f"HTTP {status}: the EHR shows no cards", style="bold")]
        lines += [
            indented(Text(f"- {issue.get('code')}: {issue.get('diagnostics')}"))
            for issue in body.get("issue", [])
        ]
        return indented(Group(*lines))
    cards = body.get("cards", [])
    parts: list[RenderableType] = [render_card(card) for card in cards]
    if not cards:
        parts.append(indented(Text("(no cards: evaluated, nothing to say)")))
    actions = body.get("systemActions", [])
    if actions:
        parts.append(indented(Text("Results written back (systemActions):", style="bold")))
        parts += [
            indented(Text(f"{action['type']}: {describe_result(action['resource'])}"), 4)
            for action in actions
        ]
    return Group(*parts)


def render_card(card: JsonObject) -> RenderableType:
    indicator = card["indicator"]
    headline = Text.assemble(
        (f" {indicator.upper()} ", INDICATOR_STYLES[indicator]), " ", (card["summary"], "bold")
    )
    parts: list[RenderableType] = [
        indented(headline),
        indented(Text(f"card {card['uuid']} · source: {card['source']['label']}", style="dim"), 4),
    ]
    if "detail" in card:
        parts.append(indented(Markdown(card["detail"]), 4))
    for suggestion in card.get("suggestions", []):
        parts.append(indented(Text(f"Suggestion: {suggestion['label']}", style="bold"), 4))
        parts.append(indented(Text(f"suggestion {suggestion['uuid']}", style="dim"), 6))
        parts += [
            indented(Text(f"{action['type']}: {describe_order(action.get('resource'))}"), 6)
            for action in suggestion.get("actions", [])
        ]
    for link in card.get("links", []):
        kind = "SMART app link" if link["type"] == "smart" else "Link"
        parts.append(indented(Text(f"{kind}: {link['label']} <{link['url']}>"), 4))
    reasons = ", ".join(reason["display"] for reason in card.get("overrideReasons", []))
    if reasons:
        parts.append(indented(Text(f"Override reasons: {reasons}"), 4))
    return Group(*parts)


def describe_result(resource: JsonObject) -> str:
    """One line per written-back resource, in the words the card uses (``qualitativeRisk.text``)."""
    name = resource.get("code", {}).get("text") or resource.get("method", {}).get("text") or ""
    kind = resource["resourceType"]
    if "valueInteger" in resource:
        return f"{kind} {name} = {resource['valueInteger']}"
    if "valueCodeableConcept" in resource:
        return f"{kind} {name} = {resource['valueCodeableConcept'].get('text', '')}"
    predictions = resource.get("prediction", [])
    risk = predictions[0].get("qualitativeRisk", {}).get("text", "") if predictions else ""
    return f"{kind} {name}: {risk}".strip().rstrip(":")


def describe_order(resource: JsonObject | None) -> str:
    if not resource:
        return "(no resource)"
    codings = resource.get("code", {}).get("coding", [])
    what = "; ".join(coding.get("display", coding.get("code", "")) for coding in codings)
    if "intent" not in resource:
        return f"{resource['resourceType']} ({resource.get('status') or resource.get('docStatus')})"
    return f"{resource['resourceType']} ({resource.get('status')}, {resource.get('intent')}): {what}"


def show(console: Console, renderable: RenderableType = "") -> None:
    """Print ``renderable``; in plain text, without the padding rich adds to the end of wrapped lines."""
    if console.is_terminal:
        console.print(renderable)
        return
    with console.capture() as captured:
        console.print(renderable)
    console.file.write("\n".join(line.rstrip() for line in captured.get().split("\n")))


def demo_console() -> Console:
    """Colour and highlighting on a terminal only; no syntax guesses in plain text (ids are not numbers)."""
    return Console(highlight=False)
