"""The workflow point from the hook and the user's PractitionerRole; the call's orders, this patient's."""

from __future__ import annotations

from typing import Any

import pytest

from stratcare.cdshooks.context import parse_context
from stratcare.content import ContentRepository
from stratcare.engine.record import PatientRecord, build_record
from stratcare.engine.workflow import WorkflowPoints, user_roles, workflow_facts
from stratcare.json_types import JsonObject

HL7_ROLE = "http://terminology.hl7.org/CodeSystem/practitioner-role"
CLINIC_ROLE = "http://stratcare.org/fhir/CodeSystem/clinic-role"


@pytest.fixture(scope="module")
def points() -> WorkflowPoints:
    return WorkflowPoints.from_content(ContentRepository.load())


def role(code: str, system: str = HL7_ROLE, **extra: Any) -> JsonObject:
    return {
        "resourceType": "PractitionerRole",
        "id": "r1",
        "practitioner": {"reference": "Practitioner/u1"},
        "code": [{"coding": [{"system": system, "code": code}]}],
    } | extra


class TestWorkflowPoints:
    @pytest.mark.parametrize(
        ("hook", "roles", "point"),
        [
            ("appointment-book", [role("nurse")], "pre-visit"),
            ("order-sign", [role("front-desk", CLINIC_ROLE)], "clinician"),
            ("encounter-start", [role("front-desk", CLINIC_ROLE)], "front-desk"),
            ("encounter-start", [role("medical-assistant", CLINIC_ROLE)], "rooming"),
            ("encounter-start", [role("nurse")], "rooming"),
            ("patient-view", [role("doctor")], "clinician"),
            ("patient-view", [role("ict")], "clinician"),
            ("patient-view", [], "clinician"),
        ],
    )
    def test_point(self, points: WorkflowPoints, hook: str, roles: list[JsonObject], point: str) -> None:
        assert points.point(hook, roles) == point

    def test_audiences(self, points: WorkflowPoints) -> None:
        assert points.audience == {
            "pre-visit": "staff",
            "front-desk": "staff",
            "rooming": "staff",
            "clinician": "clinician",
        }


class TestUserRoles:
    def test_a_practitioner_role_user_is_that_role(self) -> None:
        assert user_roles("PractitionerRole/r1", [role("nurse"), role("doctor", id="r2")]) == [role("nurse")]

    def test_a_practitioner_user_has_the_roles_naming_them(self) -> None:
        other = role("doctor", practitioner={"reference": "Practitioner/someone-else"})
        absolute = role("nurse", practitioner={"reference": "https://ehr.example.org/fhir/Practitioner/u1"})
        assert user_roles("Practitioner/u1", [other, absolute]) == [absolute]

    def test_inactive_roles_do_not_count(self) -> None:
        assert user_roles("PractitionerRole/r1", [role("nurse", active=False)]) == []


class TestFacts:
    def test_other_patients_draft_orders_are_left_out(self, points: WorkflowPoints) -> None:
        mine = {
            "resourceType": "ServiceRequest",
            "id": "a",
            "status": "draft",
            "intent": "order",
            "subject": {"reference": "Patient/p1"},
        }
        theirs = mine | {"id": "b", "subject": {"reference": "Patient/p2"}}
        context = parse_context(
            "order-sign",
            {
                "userId": "Practitioner/u1",
                "patientId": "p1",
                "draftOrders": {
                    "resourceType": "Bundle",
                    "entry": [{"resource": mine}, {"resource": theirs}],
                },
            },
        )
        facts = workflow_facts(context, "order-sign", PatientRecord(patient_id="p1"), points)
        assert facts.draft_orders == (mine,)
        assert (facts.workflow_point, facts.user_role) == ("clinician", "clinician")

    def test_order_select_keeps_its_selections_and_order_sign_selects_everything(
        self, points: WorkflowPoints
    ) -> None:
        orders = [
            {
                "resourceType": "ServiceRequest",
                "id": order_id,
                "status": "draft",
                "intent": "order",
                "subject": {"reference": "Patient/p1"},
            }
            for order_id in ("a", "b")
        ]
        base = {
            "userId": "Practitioner/u1",
            "patientId": "p1",
            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": r} for r in orders]},
        }
        record = PatientRecord(patient_id="p1")
        select = parse_context("order-select", base | {"selections": ["ServiceRequest/b"]})
        facts = workflow_facts(select, "order-select", record, points)
        assert facts.selections == ("ServiceRequest/b",)
        assert facts.selected_orders == (orders[1],)
        assert facts.draft_orders == tuple(orders)
        sign = workflow_facts(parse_context("order-sign", base), "order-sign", record, points)
        assert sign.selections is None
        assert sign.selected_orders == tuple(orders)

    def test_a_staff_role_in_the_record_makes_the_user_staff(self, points: WorkflowPoints) -> None:
        context = parse_context(
            "encounter-start", {"userId": "PractitionerRole/r1", "patientId": "p1", "encounterId": "e1"}
        )
        record = PatientRecord(patient_id="p1", practitioner_roles=[role("front-desk", CLINIC_ROLE)])
        facts = workflow_facts(context, "encounter-start", record, points)
        assert (facts.workflow_point, facts.user_role) == ("front-desk", "staff")
        assert facts.practitioner_role == role("front-desk", CLINIC_ROLE)


class TestRecord:
    def test_tasks_appointments_and_roles_are_kept_for_the_decision(self) -> None:
        task = {
            "resourceType": "Task",
            "id": "t1",
            "status": "requested",
            "intent": "order",
            "for": {"reference": "Patient/p1"},
        }
        mine = {
            "resourceType": "Appointment",
            "id": "a1",
            "status": "booked",
            "participant": [{"actor": {"reference": "Patient/p1"}, "status": "accepted"}],
        }
        theirs = mine | {
            "id": "a2",
            "participant": [{"actor": {"reference": "Patient/p2"}, "status": "accepted"}],
        }
        other_task = task | {"id": "t2", "for": {"reference": "Patient/p2"}}
        bundle = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": 4,
            "entry": [{"resource": r} for r in (task, other_task, mine, theirs)],
        }
        record = build_record({"tasks": bundle, "userRole": role("nurse")}, "p1", None)
        assert record.tasks == [task]
        assert record.appointments == [mine]
        assert record.practitioner_roles == [role("nurse")]
