"""Questionnaire canonicals in prefetch templates, written from the Questionnaires the service scores.

A QuestionnaireResponse names its Questionnaire as ``url|version`` (what SDC form fillers write) or as the
bare ``url``. Servers differ on whether ``questionnaire=<url>`` also finds ``<url>|<version>``: Medplum and
HAPI FHIR before 7.4 match the stored string exactly. So a descriptor never spells one form out: its
template says ``questionnaire={{canonicals:<url>}}`` and, when the descriptor is loaded, that placeholder
becomes ``<url>,<url>|<v1>,…`` (a search OR of every form), one ``|version`` per version of that
Questionnaire in the content folder. Discovery shows the expanded template, so an EHR runs the same search
the service would.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from stratcare.json_types import JsonObject

CANONICALS_PLACEHOLDER = re.compile(r"\{\{\s*canonicals:([^{}\s]+)\s*\}\}")
_SEARCH_SPECIAL = re.compile(r"([\\,$|])")


def questionnaire_versions(questionnaires: Iterable[JsonObject]) -> dict[str, tuple[str, ...]]:
    """Each Questionnaire url with the versions defined for it (sorted; none when it has no version)."""
    versions: dict[str, set[str]] = {}
    for questionnaire in questionnaires:
        url = questionnaire.get("url")
        if not isinstance(url, str):
            continue
        known = versions.setdefault(url, set())
        version = questionnaire.get("version")
        if isinstance(version, str) and version:
            known.add(version)
    return {url: tuple(sorted(found)) for url, found in versions.items()}


def _escaped(value: str) -> str:
    """FHIR search escaping (R4 search.html "Escaping Search Parameters") for one part of a value."""
    return _SEARCH_SPECIAL.sub(r"\\\1", value)


def canonical_search_value(url: str, versions: Sequence[str]) -> str:
    """``url,url|v1,…``: a ``questionnaire`` search value that finds the bare and every versioned form."""
    forms = [_escaped(url), *(f"{_escaped(url)}|{_escaped(version)}" for version in versions)]
    return ",".join(forms)


def expand_canonicals(template: str, versions: Mapping[str, Sequence[str]]) -> str:
    """Replace every ``{{canonicals:<url>}}``; ValueError naming a url with no Questionnaire."""

    def substitute(match: re.Match[str]) -> str:
        url = match.group(1)
        if url not in versions:
            raise ValueError(f"{{{{canonicals:{url}}}}} names no Questionnaire in the content folder")
        return canonical_search_value(url, versions[url])

    return CANONICALS_PLACEHOLDER.sub(substitute, template)
