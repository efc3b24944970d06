"""Card detail: the action's clinical advice, then the screening results it rests on (Markdown).

Written for the clinician: dates in words with how long ago, statuses in words, questions by their number
and text (the refusal reasons already name them so); no resource ids, linkIds or status codes. A risk group
is shown only from a current screen; an older or undated screen says so and why. What a scored screen
says is the instrument's declared card lines (content); nothing here names an instrument.
"""

from __future__ import annotations

import re
from datetime import datetime

from stratcare.fhir_datetime import fhir_datetime_precision
from stratcare.instruments.card_lines import card_lines
from stratcare.instruments.definition import InstrumentDefinition
from stratcare.instruments.instrument_result import InstrumentResult
from stratcare.instruments.results import ResponseRejected, ResponseSource
from stratcare.json_types import JsonObject
from stratcare.pathways.evidence import evidence_lines
from stratcare.pathways.inputs import PathwayInputs
from stratcare.pathways.referrals import ordered_at
from stratcare.pathways.screen_dates import date_in_words, is_current, screen_age_days

ScoredOrRefused = InstrumentResult | ResponseRejected
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|])")
ORDER_STATUS_IN_WORDS = {
    "draft": "a draft not yet signed",
    "active": "active",
    "on-hold": "on hold",
}


def _escape(text: str) -> str:
    """Escape Markdown in text that comes from outside the content (refusal reasons)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _when(source: ResponseSource, inputs: PathwayInputs, verb: str) -> str:
    dated = source.dated
    if dated is None:
        return "The response has no date (neither an authored date nor a last-updated time)"
    when = f"{verb} {date_in_words(dated.instant, dated.precision, inputs.now)}"
    if dated.basis == "lastUpdated":
        when += ", the date the record was last updated (the response itself carries no date)"
    return when


def _currency(source: ResponseSource, inputs: PathwayInputs, window_days: int) -> str:
    """Empty for a current screen; otherwise why it is not used."""
    if is_current(source, inputs.now, window_days):
        return ""
    if source.dated is None or screen_age_days(source.dated, inputs.now) is None:
        return "it cannot be dated reliably, so it is not used"
    return f"older than the {window_days}-day screening window, so it is not current and is not used"


def _line(
    definition: InstrumentDefinition, result: ScoredOrRefused, inputs: PathwayInputs, window_days: int
) -> str:
    # A refused response may never have been finished: it was answered, not completed.
    verb = "Answered" if isinstance(result, ResponseRejected) else "Completed"
    source = result.source
    currency = _currency(source, inputs, window_days)
    when = _when(source, inputs, verb)
    if currency:
        return f"- {definition.name}: {when}; {currency}."
    if isinstance(result, ResponseRejected):
        reasons = "; ".join(_escape(reason) for reason in result.reasons)
        note = f", {definition.refusal_note}" if definition.refusal_note else ""
        return f"- {definition.name}: not scored ({reasons}){note}. {when}."
    return f"- {'; '.join(card_lines(result))}. {when}."


def _result_line(key: str, inputs: PathwayInputs, window_days: int) -> str | None:
    outcome, definition = inputs.results.get(key), inputs.instruments.get(key)
    if isinstance(outcome, InstrumentResult):
        definition = outcome.definition
    if definition is None:
        return None
    if outcome is None:
        screened_for = next(iter(inputs.instruments), None)
        return f"- {definition.name}: no response on record." if key == screened_for else None
    return _line(definition, outcome, inputs, window_days)


def _order_name(request: JsonObject) -> str:
    code = request.get("code")
    if isinstance(code, dict):
        if isinstance(code.get("text"), str):
            return str(code["text"])
        for coding in code.get("coding", []):
            if isinstance(coding, dict) and isinstance(coding.get("display"), str):
                return str(coding["display"])
    return "an order for the same service"


def existing_order_line(request: JsonObject, now: datetime) -> str:
    """Which open order made a new one redundant: what it is, its state and when it was made."""
    status = ORDER_STATUS_IN_WORDS.get(str(request.get("status")), "open")
    when = ordered_at(request)
    meta = request.get("meta")
    raw = request.get("authoredOn") or (meta.get("lastUpdated") if isinstance(meta, dict) else None)
    precision = fhir_datetime_precision(raw) or "day"
    ordered = f", ordered {date_in_words(when, precision, now)}" if when else ""
    return (
        f"A matching order already exists: {_escape(_order_name(request))} ({status}{ordered}). "
        "No new order is suggested; review the existing one."
    )


def card_detail(
    description: str | None,
    inputs: PathwayInputs,
    existing_request: JsonObject | None,
    window_days: int,
    evidence: tuple[JsonObject, ...] = (),
) -> str:
    """Markdown: advice, the record resources the action found, an existing-order note when there is
    one, then the screening results: each instrument the service scores with a response on record, in
    the service's order, and the one it screens for (its first) even without one (no section when there
    is none of these)."""
    lines = [
        line for key in inputs.instrument_keys if (line := _result_line(key, inputs, window_days)) is not None
    ]
    sections = [description] if description else []
    if evidence:
        sections.append(evidence_lines(evidence))
    if existing_request is not None:
        sections.append(existing_order_line(existing_request, inputs.now))
    if lines:  # a service that scores no instrument (referral status) has no results to show
        sections.append("\n".join(["**Screening results**", "", *lines]))
    return "\n\n".join(sections)
