"""Whether a prefetch value (sent by the EHR or fetched by the service) is the data its template asked for.

CDS Hooks 2.0 ("Prefetch Template"): prefetched data MUST equal what the service would get by running the
template itself, and the service checks the data against its template to see which requests were
satisfied. So the same checks apply to both: a read answers the resource of that type and id; a search
answers a ``searchset`` (or ``collection``) Bundle; an OperationOutcome is never data; and a search whose
Bundle ``self`` link no longer carries one of the filters sent was answered with that filter ignored
(Medplum and HAPI FHIR echo the parameters they applied), so its result cannot say "nothing found".
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from stratcare.json_types import JsonObject

SEARCH_BUNDLE_TYPES = frozenset({"searchset", "collection"})
# Parameters that shape the result rather than select it (FHIR R4 search.html, "Search result
# parameters"): a server that ignores one still answers with every match, and all pages are read anyway.
RESULT_PARAMETERS = frozenset(
    {"_sort", "_count", "_include", "_revinclude", "_summary", "_total", "_elements", "_contained"}
    | {"_containedType", "_offset", "_format", "_pretty"}
)


def is_search(query: str) -> bool:
    path = query.split("?", 1)[0].strip("/")
    return "?" in query or "/" not in path


def unexpected_answer(query: str, answer: JsonObject | None) -> str | None:
    """Why ``answer`` is not the data ``query`` asked for, or None when it is (None = "no data")."""
    if answer is None:
        return None
    kind = answer.get("resourceType")
    if kind == "OperationOutcome":
        return "an OperationOutcome came instead of data"
    if is_search(query):
        return _unexpected_search_answer(query, answer)
    resource_type, _, resource_id = query.strip("/").partition("/")
    if kind != resource_type:
        return f"expected a {resource_type}, got {kind!r}"
    if answer.get("id") != resource_id:
        return f"expected {resource_type}/{resource_id}, got a {resource_type} with another id"
    return None


def _unexpected_search_answer(query: str, answer: JsonObject) -> str | None:
    kind = answer.get("resourceType")
    if kind != "Bundle":
        return f"expected a search Bundle, got {kind!r}"
    if answer.get("type") not in SEARCH_BUNDLE_TYPES:
        return f"expected a searchset Bundle, got a Bundle of type {answer.get('type')!r}"
    ignored = ignored_parameters(query, answer)
    if ignored:
        names = ", ".join(ignored)
        return f"the search ignored {names} (the Bundle's self link does not carry it), so it is not trusted"
    return None


def ignored_parameters(query: str, bundle: JsonObject) -> list[str]:
    """Filters sent in ``query`` that the Bundle's ``self`` link does not echo (none without a self link)."""
    self_url = link_url(bundle, "self")
    if self_url is None:
        return []
    sent = {name for name, _ in parse_qsl(query.partition("?")[2], keep_blank_values=True)}
    echoed = {name for name, _ in parse_qsl(urlsplit(self_url).query, keep_blank_values=True)}
    return sorted(sent - RESULT_PARAMETERS - echoed)


def link_url(bundle: JsonObject, relation: str) -> str | None:
    links = bundle.get("link")
    if not isinstance(links, list):
        return None
    for link in links:
        if isinstance(link, dict) and link.get("relation") == relation and isinstance(link.get("url"), str):
            return str(link["url"])
    return None


def _matches(bundle: JsonObject) -> int:
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return 0
    return sum(
        1
        for entry in entries
        if not (isinstance(entry, dict) and isinstance(entry.get("search"), dict))
        or entry["search"].get("mode", "match") == "match"
    )


def incomplete_reason(bundle: JsonObject) -> str | None:
    """Why a search Bundle does not hold the whole result, or None when it does (as far as it says)."""
    if link_url(bundle, "next") is not None:
        return "the Bundle has further pages (a next link) that were not read"
    total = bundle.get("total")
    if isinstance(total, int) and not isinstance(total, bool) and total > _matches(bundle):
        return f"the Bundle holds {_matches(bundle)} of its {total} matches"
    return None
