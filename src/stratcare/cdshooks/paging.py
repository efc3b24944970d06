"""Every page of a search: follow ``next`` links, then hand on one Bundle holding all the matches.

A search Bundle that still has a ``next`` link, or whose ``total`` is more than the matches it holds, is
incomplete: a red flag may be on the page not read. Nothing downstream may decide on it
(``answers.incomplete_reason`` is checked again where the patient's record is built).

Following pages sends the EHR's token, so a ``next`` link is only followed when it is on ``fhirServer``.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from stratcare.cdshooks.answers import incomplete_reason, link_url
from stratcare.fhir.client import FhirReader
from stratcare.json_types import JsonObject


class IncompleteSearch(Exception):
    """The search's remaining pages could not be read; ``args[0]`` says why (no patient data)."""


def on_server(url: str, base_url: str) -> bool:
    base = base_url.rstrip("/")
    return url == base or url.startswith((f"{base}/", f"{base}?"))


async def all_pages(
    first: JsonObject,
    *,
    base_url: str | None,
    token: SecretStr | None,
    reader: FhirReader,
    max_pages: int,
) -> JsonObject:
    """``first`` with the entries of every following page and no ``next`` link; IncompleteSearch if not."""
    entries = list(first.get("entry") or [])
    page, pages = first, 1
    while (next_url := link_url(page, "next")) is not None:
        if base_url is None:
            raise IncompleteSearch("the Bundle has further pages and no fhirServer was given to read them")
        if not on_server(next_url, base_url):
            raise IncompleteSearch("the Bundle's next link is not on fhirServer, so it was not followed")
        if pages >= max_pages:
            raise IncompleteSearch(f"the search has more than {max_pages} pages (STRATCARE_FHIR_MAX_PAGES)")
        following = await reader.read_url(next_url, token)
        if following is None or following.get("resourceType") != "Bundle":
            raise IncompleteSearch(f"page {pages + 1} of the search could not be read")
        entries.extend(following.get("entry") or [])
        page, pages = following, pages + 1
    complete = first if pages == 1 else _merged(first, entries)
    reason = incomplete_reason(complete)
    if reason is not None:
        raise IncompleteSearch(reason)
    return complete


def _merged(first: JsonObject, entries: list[Any]) -> JsonObject:
    links = [
        link for link in first.get("link") or [] if isinstance(link, dict) and link.get("relation") == "self"
    ]
    merged = {key: value for key, value in first.items() if key not in ("entry", "link")}
    if entries:
        merged["entry"] = entries
    if links:
        merged["link"] = links
    return merged
