"""Merging item wording that a licensed site supplies into a Questionnaire shipped without it.

Some instruments (the Keele STarT MSK Tool: "may not be modified or copied", licence required) are shipped
as structure and scoring only. A licensed site puts the wording in ``<licensed content folder>/<file>``, a
JSON object mapping each linkId to its text, e.g. ``{"msk-1": "…", "msk-2": "…"}``. Until every item has its
text the instrument is unavailable, with the reason, and is never offered half-worded.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path

from stratcare.json_types import JsonObject


class WordingUnavailable(Exception):
    """The licensed wording is not supplied, or does not fit the Questionnaire; the message says why."""


def merge_licensed_wording(questionnaire: JsonObject, folder: Path | None, file_name: str) -> JsonObject:
    """A copy of ``questionnaire`` with every item's text from the wording file."""
    title = questionnaire.get("title") or questionnaire.get("url")
    if folder is None:
        raise WordingUnavailable(
            f"{title} is unavailable: licensed wording not supplied (no licensed content folder configured)"
        )
    wording = _read_wording(folder / file_name, str(title))
    merged = copy.deepcopy(questionnaire)
    unworded = [item for item in _walk(merged.get("item", [])) if not item.get("text")]
    missing = [str(item["linkId"]) for item in unworded if item["linkId"] not in wording]
    if missing:
        raise WordingUnavailable(f"{title} is unavailable: {folder / file_name} has no wording for {missing}")
    known = {str(item["linkId"]) for item in _walk(merged.get("item", []))}
    unknown = sorted(set(wording) - known)
    if unknown:
        raise WordingUnavailable(
            f"{title} is unavailable: {folder / file_name} words unknown items {unknown}"
        )
    for item in unworded:
        item["text"] = wording[item["linkId"]]
    return merged


def _read_wording(path: Path, title: str) -> dict[str, str]:
    if not path.is_file():
        raise WordingUnavailable(f"{title} is unavailable: licensed wording not supplied ({path} not found)")
    try:
        wording = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise WordingUnavailable(f"{title} is unavailable: cannot read {path} ({exc})") from exc
    if not isinstance(wording, dict) or not all(
        isinstance(text, str) and text.strip() for text in wording.values()
    ):
        raise WordingUnavailable(f"{title} is unavailable: {path} must map each linkId to non-empty text")
    return wording


def _walk(items: list[JsonObject]) -> Iterator[JsonObject]:
    for item in items:
        yield item
        yield from _walk(item.get("item", []))
