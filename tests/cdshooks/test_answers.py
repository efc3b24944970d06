"""A prefetch value is checked against its template, whoever produced it."""

from __future__ import annotations

from typing import Any

from stratcare.cdshooks.answers import incomplete_reason, unexpected_answer

SEARCH = "Condition?patient=p1&clinical-status=active,recurrence&_count=100&_sort=-recorded-date"


def bundle(self_url: str | None = None, **fields: Any) -> dict[str, Any]:
    value: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", **fields}
    if self_url is not None:
        value["link"] = [{"relation": "self", "url": self_url}]
    return value


class TestIgnoredParameters:
    def test_a_self_link_echoing_every_filter_is_trusted(self) -> None:
        self_url = "https://ehr.org/fhir/Condition?clinical-status=active%2Crecurrence&patient=p1&_count=100"
        assert unexpected_answer(SEARCH, bundle(self_url)) is None

    def test_a_filter_missing_from_the_self_link_is_not_trusted(self) -> None:
        problem = unexpected_answer(SEARCH, bundle("https://ehr.org/fhir/Condition?patient=p1&_count=100"))
        assert problem is not None
        assert "ignored clinical-status" in problem

    def test_result_parameters_may_be_dropped(self) -> None:
        self_url = "https://ehr.org/fhir/Condition?patient=p1&clinical-status=active"
        assert unexpected_answer(SEARCH, bundle(self_url)) is None

    def test_without_a_self_link_nothing_can_be_told(self) -> None:
        assert unexpected_answer(SEARCH, bundle()) is None


class TestShapes:
    def test_a_read_needs_the_resource_with_that_id(self) -> None:
        assert unexpected_answer("Patient/p1", {"resourceType": "Patient", "id": "p1"}) is None
        assert "another id" in str(unexpected_answer("Patient/p1", {"resourceType": "Patient", "id": "p2"}))
        assert "got 'Bundle'" in str(unexpected_answer("Patient/p1", bundle()))

    def test_a_search_needs_a_searchset_bundle(self) -> None:
        assert "search Bundle" in str(unexpected_answer(SEARCH, {"resourceType": "Condition", "id": "c"}))
        assert "type 'batch'" in str(unexpected_answer(SEARCH, {"resourceType": "Bundle", "type": "batch"}))


class TestIncomplete:
    def test_a_next_link_means_more_pages(self) -> None:
        value = bundle(link=[{"relation": "next", "url": "https://ehr.org/fhir/Condition?page=2"}])
        assert "further pages" in str(incomplete_reason(value))

    def test_fewer_matches_than_the_total(self) -> None:
        entries = [
            {"resource": {}, "search": {"mode": "match"}},
            {"resource": {}, "search": {"mode": "include"}},
        ]
        assert "1 of its 2" in str(incomplete_reason(bundle(total=2, entry=entries)))
        assert incomplete_reason(bundle(total=1, entry=entries)) is None
