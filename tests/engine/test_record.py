"""Only this patient's well-formed resources reach the decision, whatever the prefetch keys are called."""

from __future__ import annotations

from typing import Any

import pytest

from stratcare.engine.record import build_record, referenced_patient_id
from stratcare.errors import PrefetchUnavailable


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": resource, "search": {"mode": "match"}} for resource in resources],
    }


def qr(resource_id: str, patient: str) -> dict[str, Any]:
    return {"resourceType": "QuestionnaireResponse", "id": resource_id, "subject": {"reference": patient}}


class TestReferencedPatientId:
    @pytest.mark.parametrize(
        ("reference", "expected"),
        [
            ({"reference": "Patient/abc"}, "abc"),
            ({"reference": "https://ehr.example.org/fhir/Patient/abc"}, "abc"),
            ({"reference": "Patient/abc/_history/3"}, "abc"),
            ({"reference": "Group/abc"}, None),
            ({"display": "Jane"}, None),
            ("Patient/abc", None),
            (None, None),
        ],
    )
    def test_forms(self, reference: object, expected: str | None) -> None:
        assert referenced_patient_id(reference) == expected


class TestBuildRecord:
    def test_resources_are_sorted_by_type_from_any_key(self) -> None:
        record = build_record(
            {
                "anything": bundle(qr("q1", "Patient/p1")),
                "who": {"resourceType": "Patient", "id": "p1"},
                "problems": bundle(
                    {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"}}
                ),
                "orders": bundle(
                    {"resourceType": "ServiceRequest", "id": "s1", "subject": {"reference": "Patient/p1"}}
                ),
            },
            "p1",
            None,
        )
        assert record.patient == {"resourceType": "Patient", "id": "p1"}
        assert [r["id"] for r in record.questionnaire_responses] == ["q1"]
        assert [r["id"] for r in record.conditions] == ["c1"]
        assert [r["id"] for r in record.service_requests] == ["s1"]
        assert record.ignored == []

    def test_another_patients_resources_are_never_used(self) -> None:
        record = build_record(
            {
                "responses": bundle(qr("mine", "Patient/p1"), qr("theirs", "Patient/p2")),
                "patient": {"resourceType": "Patient", "id": "p2"},
            },
            "p1",
            None,
        )
        assert [r["id"] for r in record.questionnaire_responses] == ["mine"]
        assert record.patient is None
        assert len(record.ignored) == 2
        assert all("p2" not in reason for reason in record.ignored)

    def test_garbage_entries_are_ignored_with_a_reason(self) -> None:
        garbage: dict[str, Any] = {"resourceType": "Bundle", "entry": [{"resource": "nope"}, 42, {}]}
        record = build_record({"responses": garbage}, "p1", None)
        assert record.questionnaire_responses == []
        assert len(record.ignored) == 2

    def test_search_outcome_entries_are_skipped(self) -> None:
        outcome = {"resourceType": "OperationOutcome", "issue": []}
        value = {"resourceType": "Bundle", "entry": [{"resource": outcome, "search": {"mode": "outcome"}}]}
        record = build_record({"responses": value}, "p1", None)
        assert record.ignored == []

    def test_an_encounter_other_than_the_context_encounter_is_left_out(self) -> None:
        encounter = {"resourceType": "Encounter", "id": "e2", "subject": {"reference": "Patient/p1"}}
        assert build_record({"encounter": encounter}, "p1", "e1").encounter is None
        assert build_record({"encounter": encounter}, "p1", "e2").encounter == encounter


class TestIncompleteSearches:
    """A Condition list missing a page must never reach the decision: the red flag may be on that page."""

    def condition(self, number: int) -> dict[str, Any]:
        return {"resourceType": "Condition", "id": f"c{number}", "subject": {"reference": "Patient/p1"}}

    def test_a_bundle_with_a_next_link_is_refused(self) -> None:
        conditions = bundle(self.condition(1))
        conditions["link"] = [{"relation": "next", "url": "https://ehr.example.org/fhir/Condition?page=2"}]
        with pytest.raises(PrefetchUnavailable) as raised:
            build_record({"conditions": conditions}, "p1", None)
        (issue,) = raised.value.issues
        assert (issue.code, issue.expression) == ("incomplete", ("prefetch.conditions",))

    def test_a_bundle_holding_fewer_matches_than_its_total_is_refused(self) -> None:
        conditions = bundle(self.condition(1), self.condition(2))
        conditions["total"] = 120
        with pytest.raises(PrefetchUnavailable, match="could not be read in full"):
            build_record({"conditions": conditions}, "p1", None)

    def test_a_complete_bundle_is_used(self) -> None:
        conditions = bundle(self.condition(1), self.condition(2))
        conditions["total"] = 2
        assert len(build_record({"conditions": conditions}, "p1", None).conditions) == 2
