"""Questionnaire canonicals in templates are generated from content, once, when the registry loads."""

from __future__ import annotations

from typing import Any

import pytest

from stratcare.cdshooks.canonicals import canonical_search_value, questionnaire_versions
from stratcare.cdshooks.services import ServiceRegistry
from stratcare.content import ContentRepository

START_BACK = "http://stratcare.org/fhir/Questionnaire/start-back"
NIH = "http://stratcare.org/fhir/Questionnaire/nih-clbp-screen"


def descriptor(template: str) -> dict[str, Any]:
    return {
        "id": "svc",
        "hook": "patient-view",
        "title": "A service",
        "description": "Scores a screen.",
        "prefetch": {"screens": template},
        "planDefinition": "http://example.org/PlanDefinition/p",
    }


class TestSearchValue:
    def test_the_bare_url_and_every_version(self) -> None:
        assert canonical_search_value("http://q.org/Q/a", ("1.0.0", "2.0.0")) == (
            "http://q.org/Q/a,http://q.org/Q/a|1.0.0,http://q.org/Q/a|2.0.0"
        )

    def test_search_special_characters_are_escaped(self) -> None:
        assert canonical_search_value("http://q.org/Q/a,b", ("1|x",)) == (
            "http://q.org/Q/a\\,b,http://q.org/Q/a\\,b|1\\|x"
        )

    def test_versions_come_from_every_questionnaire_with_the_url(self) -> None:
        found = questionnaire_versions(
            [
                {"url": "http://q.org/Q/a", "version": "2"},
                {"url": "http://q.org/Q/a", "version": "1"},
                {"url": "http://q.org/Q/b"},
            ]
        )
        assert found == {"http://q.org/Q/a": ("1", "2"), "http://q.org/Q/b": ()}


class TestRegistryExpansion:
    def test_the_shipped_services_search_both_forms_of_each_instrument(self) -> None:
        content = ContentRepository.load()
        versions = questionnaire_versions(content.all_of("Questionnaire"))
        registry = ServiceRegistry.from_content(content)
        for service in (s for s in registry.all() if s.decision == "stratified-care"):
            prefetch = service.descriptor().prefetch or {}
            searches = [t for t in prefetch.values() if t.startswith("QuestionnaireResponse?")]
            for url in service.instruments:
                both = canonical_search_value(url, versions[url])
                assert "|" in both, url
                assert any(
                    f"{before}{both}{after}" in t for t in searches for before in "=," for after in "&,"
                ), (service.id, url)
            assert not any("canonicals" in template for template in prefetch.values())
        shipped = registry.get("start-back-encounter-start").prefetch
        assert f"questionnaire={START_BACK},{START_BACK}|1.0.0&" in shipped["startBackResponses"]
        assert f"questionnaire={NIH},{NIH}|1.0.0&" in shipped["nihResponses"]

    def test_a_placeholder_naming_no_questionnaire_stops_loading(self) -> None:
        template = "QuestionnaireResponse?questionnaire={{canonicals:http://q.org/Q/none}}"
        with pytest.raises(ValueError, match="names no Questionnaire"):
            ServiceRegistry.from_descriptors([descriptor(template)], {"http://q.org/Q/a": ("1",)})

    def test_an_unknown_token_stops_loading(self) -> None:
        template = "QuestionnaireResponse?questionnaire={{canonical:http://q.org/Q/a}}"
        with pytest.raises(ValueError, match="unknown tokens"):
            ServiceRegistry.from_descriptors([descriptor(template)], {"http://q.org/Q/a": ("1",)})

    def test_context_and_user_tokens_stay_for_the_client(self) -> None:
        template = "QuestionnaireResponse?subject=Patient/{{context.patientId}}&author={{userPractitionerId}}"
        (service,) = ServiceRegistry.from_descriptors([descriptor(template)], {}).all()
        assert service.prefetch["screens"] == template
