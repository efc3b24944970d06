"""The demo EHR's FHIR server answers the searches the service's prefetch templates make, faithfully."""

from __future__ import annotations

import httpx
import pytest

from stratcare.demo.ehr_fhir import DemoEhr, UnsupportedSearch, serving

START_BACK = "http://stratcare.org/fhir/Questionnaire/start-back"


@pytest.fixture
def ehr() -> DemoEhr:
    record = DemoEhr()
    record.put({"resourceType": "Patient", "id": "p1"})
    for rid, patient, questionnaire in (("a", "p1", f"{START_BACK}|1.0.0"), ("b", "p2", START_BACK)):
        record.put(
            {
                "resourceType": "QuestionnaireResponse",
                "id": rid,
                "status": "completed",
                "questionnaire": questionnaire,
                "subject": {"reference": f"Patient/{patient}"},
            }
        )
    return record


class TestSearch:
    def test_filters_by_patient_and_questionnaire_or_list(self, ehr: DemoEhr) -> None:
        query = f"QuestionnaireResponse?subject=Patient/p1&questionnaire={START_BACK},{START_BACK}|1.0.0"
        found = ehr.search(query)
        assert (found["type"], found["total"]) == ("searchset", 1)
        assert found["entry"][0]["resource"]["id"] == "a"
        assert ehr.search("QuestionnaireResponse?subject=Patient/p1&questionnaire=other")["total"] == 0

    def test_a_parameter_it_cannot_apply_is_an_error_not_ignored(self, ehr: DemoEhr) -> None:
        with pytest.raises(UnsupportedSearch, match="authored"):
            ehr.search("QuestionnaireResponse?authored=ge2026-01-01")

    def test_a_read_of_a_missing_resource_is_none(self, ehr: DemoEhr) -> None:
        assert ehr.query("Patient/p1") is not None
        assert ehr.query("Patient/nobody") is None


def test_transactions_are_conditional_creates_over_http(ehr: DemoEhr) -> None:
    entry = {
        "resource": {
            "resourceType": "Observation",
            "status": "final",
            "identifier": [{"system": "s", "value": "1"}],
        },
        "request": {"method": "POST", "url": "Observation", "ifNoneExist": "identifier=s|1"},
    }
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [entry]}
    with serving(ehr) as running:
        first = httpx.post(running.base_url, json=bundle, timeout=10)
        again = httpx.post(running.base_url, json=bundle, timeout=10)
    assert first.json()["entry"][0]["response"]["status"] == "201 Created"
    assert again.json()["entry"][0]["response"]["status"] == "200 OK"
    assert len(ehr.all_of("Observation")) == 1
