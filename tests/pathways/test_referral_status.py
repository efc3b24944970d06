"""Closing the loop: stratcare's referrals recognised among the record's ServiceRequests and Tasks, their
status, and the status PlanDefinition's cards over them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from stratcare.cdshooks.services import ServiceRegistry
from stratcare.content import ContentRepository
from stratcare.pathways import Pathway, load_pathway
from stratcare.pathways.referral_status import (
    REFERRAL_IDENTIFIER_SYSTEM,
    referral_variables,
    stratcare_referrals,
)
from stratcare.pathways.worklist_referral import Worklist, with_worklist, worklist_task

from .contract import applied, variables

JsonObject = dict[str, Any]
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
PLAN = "http://stratcare.org/fhir/PlanDefinition/stratcare-referral-status"
START_MSK_PLAN = "http://stratcare.org/fhir/PlanDefinition/start-msk-stratified-care"
PAIN_PLATFORM_PLAN = "http://stratcare.org/fhir/PlanDefinition/pain-platform-stepped-care"
STEP_2 = "http://stratcare.org/fhir/ActivityDefinition/pain-platform-low-intensity-cbt|1.0.0"
OWNER = {"type": "Organization", "identifier": {"system": "urn:test", "value": "platform"}}
REFERRAL_ID = UUID(int=7)


def request(
    request_id: str = "sr1",
    status: str = "active",
    authored: str | None = "2026-11-15T09:00:00Z",
    canonical: str | None = STEP_2,
    identifier: str | None = None,
    patient: str = "p1",
) -> JsonObject:
    found: JsonObject = {
        "resourceType": "ServiceRequest",
        "id": request_id,
        "status": status,
        "intent": "order",
        "code": {"text": "Pain Platform: low-intensity telephone CBT (step 2)"},
        "subject": {"reference": f"Patient/{patient}"},
    }
    if authored:
        found["authoredOn"] = authored
    if canonical:
        found["instantiatesCanonical"] = [canonical]
    if identifier:
        found["identifier"] = [{"system": REFERRAL_IDENTIFIER_SYSTEM, "value": identifier}]
    return found


def task(
    status: str, focus: JsonObject, task_id: str = "t1", patient: str = "p1", **extra: object
) -> JsonObject:
    return {
        "resourceType": "Task",
        "id": task_id,
        "status": status,
        "intent": "order",
        "focus": focus,
        "for": {"reference": f"Patient/{patient}"},
        **extra,
    }


@pytest.fixture(scope="module")
def status_plan(content: ContentRepository) -> Pathway:
    return load_pathway(content, PLAN)


class TestRecognition:
    def test_by_instantiates_canonical_with_the_task_by_literal_focus(self) -> None:
        found = stratcare_referrals(
            [request()], [task("accepted", {"reference": "ServiceRequest/sr1"})], "p1"
        )
        assert [(r.status, r.task and r.task["id"]) for r in found] == [("accepted", "t1")]

    def test_by_identifier_with_the_task_by_logical_focus(self) -> None:
        sr = request(canonical=None, identifier="abc")
        focus = {
            "type": "ServiceRequest",
            "identifier": {"system": REFERRAL_IDENTIFIER_SYSTEM, "value": "abc"},
        }
        [found] = stratcare_referrals([sr], [task("rejected", focus)], "p1")
        assert found.status == "rejected"

    def test_others_referrals_and_other_patients_are_ignored(self) -> None:
        foreign = request("sr2", canonical="http://example.org/ActivityDefinition/x")
        elsewhere = request("sr3", patient="p2")
        stray_task = task("requested", {"reference": "ServiceRequest/sr9"}, "t9")
        assert stratcare_referrals([foreign, elsewhere], [stray_task], "p1") == []

    def test_a_task_alone_with_a_stratcare_focus_counts(self) -> None:
        focus = {"identifier": {"system": REFERRAL_IDENTIFIER_SYSTEM, "value": "abc"}}
        [found] = stratcare_referrals([], [task("in-progress", focus, authoredOn="2026-11-01")], "p1")
        assert found.service_request is None
        assert found.status == "in-progress"

    @pytest.mark.parametrize(
        ("status", "expected"),
        [("draft", "draft"), ("active", "requested"), ("revoked", "cancelled"), ("completed", "completed")],
    )
    def test_without_a_task_the_service_request_gives_the_status(self, status: str, expected: str) -> None:
        [found] = stratcare_referrals([request(status=status)], [], "p1")
        assert found.status == expected

    def test_entered_in_error_is_ignored(self) -> None:
        wrong = task("entered-in-error", {"reference": "ServiceRequest/sr1"})
        assert stratcare_referrals([request(status="entered-in-error")], [wrong], "p1") == []
        [found] = stratcare_referrals([request()], [wrong], "p1")
        assert found.task is None

    def test_newest_first_and_variables(self) -> None:
        old, new = request("old", authored="2026-10-01"), request("new", authored="2026-11-18")
        undated = request("undated", authored=None)
        found = stratcare_referrals([undated, old, new], [], "p1")
        assert [r.service_request and r.service_request["id"] for r in found] == ["new", "old", "undated"]
        bound = referral_variables(found, NOW)
        assert bound[0]["ageDays"] == 2
        assert bound[0]["request"] == "ServiceRequest/new"
        assert bound[0]["definition"] == STEP_2.split("|")[0]
        assert "ageDays" not in bound[2]


class TestWorklistTask:
    def test_task_points_at_the_service_request_by_its_stratcare_identifier(self) -> None:
        draft = request(status="draft", identifier=None) | {"priority": "routine"}
        tagged = with_worklist(draft, Worklist(performers=(OWNER,), task_owner=OWNER), REFERRAL_ID)
        made = worklist_task(tagged, OWNER, REFERRAL_ID, NOW)
        assert tagged["identifier"] == [{"system": REFERRAL_IDENTIFIER_SYSTEM, "value": str(REFERRAL_ID)}]
        assert tagged["performer"] == [OWNER]
        assert made["status"] == "requested"
        assert made["intent"] == "order"
        assert made["owner"] == OWNER
        assert made["for"] == {"reference": "Patient/p1"}
        assert made["focus"]["identifier"] == tagged["identifier"][0]
        assert made["priority"] == "routine"
        # The pair round-trips: once the EHR has created both, the loop finds the Task for the request.
        created = tagged | {"id": "server-1"}
        [found] = stratcare_referrals([created], [made | {"id": "t-1", "status": "accepted"}], "p1")
        assert found.status == "accepted"


def status_of(status_plan: Pathway, *entries: JsonObject) -> list[str]:
    return applied(status_plan, variables(status_plan, referrals=list(entries)))


def entry(status: str, age_days: int) -> JsonObject:
    return {"status": status, "open": True, "ageDays": age_days, "resource": request()}


class TestStatusCards:
    def test_rejected_raises_a_warning(self, status_plan: Pathway) -> None:
        assert status_of(status_plan, entry("rejected", 3)) == ["referral-rejected"]
        spec = next(s for s in status_plan.definition.actions if s.id == "referral-rejected")
        assert spec.indicator == "warning"

    def test_not_accepted_within_the_window_raises_a_warning(self, status_plan: Pathway) -> None:
        assert status_of(status_plan, entry("requested", 14)) == ["referral-requested"]
        assert status_of(status_plan, entry("requested", 15)) == ["referral-not-accepted"]
        assert status_of(status_plan, entry("received", 20)) == ["referral-not-accepted"]

    @pytest.mark.parametrize(
        ("status", "card"),
        [
            ("accepted", "referral-accepted"),
            ("in-progress", "referral-in-progress"),
            ("completed", "referral-completed"),
            ("cancelled", "referral-cancelled"),
            ("failed", "referral-cancelled"),
        ],
    )
    def test_each_status_has_its_card(self, status_plan: Pathway, status: str, card: str) -> None:
        assert status_of(status_plan, entry(status, 5)) == [card]

    def test_old_referrals_are_not_shown(self, status_plan: Pathway) -> None:
        assert status_of(status_plan, entry("completed", 85)) == []

    def test_no_referrals_no_cards(self, status_plan: Pathway) -> None:
        assert status_of(status_plan) == []

    def test_evidence_selects_the_referral_resource(self, status_plan: Pathway) -> None:
        spec = next(s for s in status_plan.definition.actions if s.id == "referral-rejected")
        assert spec.evidence is not None
        bound = variables(status_plan, referrals=[entry("rejected", 3), entry("accepted", 3)])
        assert spec.evidence.evaluate({"resourceType": "Patient"}, bound) == [request()]


def test_the_new_services_are_live_and_name_their_pathways_and_instruments(
    content: ContentRepository,
) -> None:
    registry = ServiceRegistry.from_content(content)
    expected = {
        "start-msk-patient-view": (START_MSK_PLAN, ["http://stratcare.org/fhir/Questionnaire/start-msk"]),
        "pain-platform-patient-view": (
            PAIN_PLATFORM_PLAN,
            [
                "http://stratcare.org/fhir/Questionnaire/phq-9",
                "http://stratcare.org/fhir/Questionnaire/gad-7",
            ],
        ),
        "referral-status-patient-view": (PLAN, []),
    }
    for service_id, (plan, instruments) in expected.items():
        service = registry.get(service_id)
        assert (service.planDefinition, service.instruments) == (plan, instruments)
        load_pathway(content, service.planDefinition)
    for service_id in ("pain-platform-patient-view", "referral-status-patient-view"):
        prefetch = registry.get(service_id).prefetch
        # The referral loop reads every status: neither search filters by status.
        assert prefetch["serviceRequests"] == "ServiceRequest?patient={{context.patientId}}&_count=100"
        assert prefetch["tasks"] == "Task?patient={{context.patientId}}&_count=100"
