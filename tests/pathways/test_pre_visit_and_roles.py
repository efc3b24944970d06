"""appointment-book sends the screen before the visit; staff get a Task, clinicians get risk and referral."""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.task import Task

from stratcare.content import ContentRepository
from stratcare.json_types import JsonObject
from stratcare.pathways import Pathway, load_pathway
from support.instrument_results import RiskGroup

from .factories import CAUDA_EQUINA, LOW_BACK_PAIN, SequentialUuids, condition, inputs, start_back
from .workflow_factories import (
    PRE_VISIT,
    SDC,
    START_BACK_Q,
    appointment,
    questionnaire_task,
    staff,
    workflow,
)


@pytest.fixture(scope="module")
def pre_visit(content: ContentRepository) -> Pathway:
    return load_pathway(content, PRE_VISIT)


def booking(*appointments: JsonObject, **extra: Any) -> Any:
    return workflow(
        hook="appointment-book", point="pre-visit", role="staff", appointments=appointments, **extra
    )


def suggested_task(pathway: Pathway, new_uuid: SequentialUuids, **overrides: Any) -> JsonObject:
    (card,) = pathway.apply(inputs(**overrides), new_uuid)
    (suggestion,) = card.suggestions or []
    (action,) = suggestion.actions or []
    assert action.type == "create"
    assert action.resource is not None
    return action.resource


class TestPreVisit:
    def test_a_back_pain_appointment_gets_a_portal_task_for_the_patient(
        self, pre_visit: Pathway, new_uuid: SequentialUuids
    ) -> None:
        task = suggested_task(pre_visit, new_uuid, workflow=booking(appointment()), conditions=[])
        Task.model_validate(task)
        assert task["status"] == "requested"
        assert task["intent"] == "order"
        assert task["code"]["coding"][0] == {
            "system": SDC,
            "code": "complete-questionnaire",
            "display": "Complete Questionnaire",
        }
        assert task["owner"] == {"reference": "Patient/p1"}
        assert task["for"] == {"reference": "Patient/p1"}
        assert task["focus"] == {"reference": "Appointment/appt-1"}
        assert task["restriction"]["period"]["end"] == "2026-11-27T09:30:00+00:00"
        (given,) = task["input"]
        assert given["valueCanonical"] == f"{START_BACK_Q}|1.0.0"
        assert given["type"]["coding"][0]["code"] == "questionnaire"
        assert task["extension"] == [
            {"url": "http://stratcare.org/fhir/StructureDefinition/workflow-point", "valueCode": "pre-visit"}
        ]

    def test_a_far_appointment_gets_a_task_due_within_the_screen_window(
        self, pre_visit: Pathway, new_uuid: SequentialUuids
    ) -> None:
        far = appointment(start="2027-03-01T09:00:00Z")
        task = suggested_task(pre_visit, new_uuid, workflow=booking(far), conditions=[])
        assert task["restriction"]["period"]["end"] == "2026-12-18T10:00:00+00:00"

    def test_a_knee_pain_appointment_counts_as_msk(self, pre_visit: Pathway) -> None:
        facts = booking(appointment(reason="30989003"))
        assert [a.spec.id for a in pre_visit.evaluate(inputs(workflow=facts, conditions=[]))] == [
            "pre-visit-questionnaire"
        ]

    def test_the_reason_may_be_a_referenced_condition(self, pre_visit: Pathway) -> None:
        booked = appointment(reason=None, reasonReference=[{"reference": f"Condition/cond-{LOW_BACK_PAIN}"}])
        facts = booking(booked)
        applied = pre_visit.evaluate(inputs(workflow=facts, conditions=[condition(LOW_BACK_PAIN)]))
        assert [a.spec.id for a in applied] == ["pre-visit-questionnaire"]

    @pytest.mark.parametrize(
        "reason",
        [None, "38341003"],  # no coded reason; hypertension
    )
    def test_other_appointments_get_nothing(self, pre_visit: Pathway, reason: str | None) -> None:
        facts = booking(appointment(reason=reason))
        assert pre_visit.evaluate(inputs(workflow=facts, conditions=[])) == []

    def test_not_offered_again_while_a_task_is_open(self, pre_visit: Pathway) -> None:
        facts = booking(appointment(), tasks=(questionnaire_task(canonical=START_BACK_Q),))
        assert pre_visit.evaluate(inputs(workflow=facts, conditions=[])) == []

    @pytest.mark.parametrize("status", ["completed", "cancelled", "failed"])
    def test_offered_again_when_the_task_is_closed(self, pre_visit: Pathway, status: str) -> None:
        facts = booking(appointment(), tasks=(questionnaire_task(status),))
        assert len(pre_visit.evaluate(inputs(workflow=facts, conditions=[]))) == 1

    def test_not_offered_with_a_current_screen(self, pre_visit: Pathway) -> None:
        facts = booking(appointment())
        assert pre_visit.evaluate(inputs(workflow=facts, start_back=start_back(RiskGroup.LOW))) == []

    def test_not_offered_with_a_red_flag(self, pre_visit: Pathway) -> None:
        facts = booking(appointment())
        assert pre_visit.evaluate(inputs(workflow=facts, conditions=[condition(CAUDA_EQUINA)])) == []


class TestRoles:
    def test_staff_are_asked_to_give_the_screen_with_a_task_for_the_clinic_team(
        self, pathway: Pathway, new_uuid: SequentialUuids
    ) -> None:
        (card,) = pathway.apply(inputs(workflow=staff()), new_uuid)
        assert card.summary.startswith("Ask the patient to complete")
        (suggestion,) = card.suggestions or []
        task = (suggestion.actions or [])[0].resource
        assert task is not None
        Task.model_validate(task)
        assert task["owner"] == {"reference": "Organization/clinic-1"}
        assert task["requester"] == {"reference": "PractitionerRole/fd1"}
        assert task["restriction"]["period"]["end"] == "2026-11-20T10:00:00+00:00"
        assert task["encounter"] == {"reference": "Encounter/e1"}
        assert task["extension"][0]["valueCode"] == "front-desk"

    def test_staff_never_see_risk_or_referral(self, pathway: Pathway) -> None:
        applied = pathway.evaluate(inputs(workflow=staff(), start_back=start_back(RiskGroup.HIGH)))
        assert applied == []

    def test_clinicians_see_risk_and_referral(self, pathway: Pathway) -> None:
        applied = pathway.evaluate(inputs(workflow=workflow(), start_back=start_back(RiskGroup.HIGH)))
        (action,) = applied
        assert action.risk is not None
        assert action.risk.value == RiskGroup.HIGH
        assert action.proposed_request is not None

    def test_clinicians_get_the_screening_order_not_the_staff_task(self, pathway: Pathway) -> None:
        assert [a.spec.id for a in pathway.evaluate(inputs(workflow=workflow()))] == ["screening-due"]

    def test_staff_see_red_flags(self, pathway: Pathway) -> None:
        conditions = [condition(LOW_BACK_PAIN), condition(CAUDA_EQUINA)]
        assert [a.spec.id for a in pathway.evaluate(inputs(workflow=staff(), conditions=conditions))] == [
            "red-flag"
        ]

    def test_staff_are_not_asked_twice(self, pathway: Pathway) -> None:
        facts = staff(tasks=(questionnaire_task(),))
        assert pathway.evaluate(inputs(workflow=facts)) == []
