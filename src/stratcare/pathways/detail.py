"""Card detail: the action's clinical advice, then the screening results it rests on (Markdown)."""

from __future__ import annotations

import re

from stratcare.instruments.results import (
    NihScreenResult,
    ResponseRejected,
    ResponseSource,
    StartBackScore,
)
from stratcare.pathways.codes import JsonObject
from stratcare.pathways.evidence import evidence_lines
from stratcare.pathways.inputs import PathwayInputs

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|])")


def _escape(text: str) -> str:
    """Escape Markdown in text that comes from outside the content (refusal reasons)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _provenance(source: ResponseSource) -> str:
    authored = source.authored.date().isoformat() if source.authored else "date not recorded"
    return f"From {source.reference}, authored {authored}."


def _rejected_line(name: str, rejected: ResponseRejected) -> str:
    reasons = "; ".join(_escape(reason) for reason in rejected.reasons)
    return f"- {name}: not scored ({reasons}). {_provenance(rejected.source)}"


def _start_back_line(result: StartBackScore | ResponseRejected | None) -> str:
    name = "STarT Back Screening Tool"
    if result is None:
        return f"- {name}: no response on record."
    if isinstance(result, ResponseRejected):
        return _rejected_line(name, result)
    return (
        f"- {name}: total {result.total}/9, psychosocial {result.psychosocial}/5, "
        f"**{result.risk_group.value} risk**. {_provenance(result.source)}"
    )


def _nih_line(result: NihScreenResult | ResponseRejected) -> str:
    name = "NIH chronic low back pain screen"
    if isinstance(result, ResponseRejected):
        return _rejected_line(name, result)
    return f"- {name}: {result.chronicity.value}. {_provenance(result.source)}"


def _existing_line(request: JsonObject) -> str:
    reference = f"ServiceRequest/{request['id']}" if request.get("id") else "a ServiceRequest"
    return (
        f"A matching referral already exists ({reference}, status {request.get('status')}), "
        "so no new referral is suggested."
    )


def card_detail(
    description: str | None,
    inputs: PathwayInputs,
    existing_request: JsonObject | None,
    evidence: tuple[JsonObject, ...] = (),
) -> str:
    """Markdown: advice, the record resources the action found, an existing-referral note when there is
    one, then the screening results."""
    results = ["**Screening results**", "", _start_back_line(inputs.start_back)]
    if inputs.nih is not None:
        results.append(_nih_line(inputs.nih))
    sections = [description] if description else []
    if evidence:
        sections.append(evidence_lines(evidence))
    if existing_request is not None:
        sections.append(_existing_line(existing_request))
    sections.append("\n".join(results))
    return "\n\n".join(sections)
