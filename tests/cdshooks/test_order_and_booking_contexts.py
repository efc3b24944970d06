"""order-select, order-sign and appointment-book contexts follow their hook definitions."""

from __future__ import annotations

from typing import Any

import pytest

from stratcare.cdshooks.context import (
    AppointmentBookContext,
    OrderSelectContext,
    OrderSignContext,
    parse_context,
)
from stratcare.errors import InvalidHookRequest
from stratcare.json_types import JsonObject

IMAGING = {"resourceType": "ServiceRequest", "id": "sr1", "status": "draft", "intent": "order"}
OPIOID = {"resourceType": "MedicationRequest", "id": "mr1", "status": "draft", "intent": "order"}
APPOINTMENT = {"resourceType": "Appointment", "id": "a1", "status": "proposed", "participant": []}


def bundle(*resources: JsonObject) -> JsonObject:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def order_context(**overrides: Any) -> JsonObject:
    values: JsonObject = {
        "userId": "Practitioner/d1",
        "patientId": "p1",
        "encounterId": "e1",
        "draftOrders": bundle(IMAGING, OPIOID),
    }
    return values | overrides


def refused(hook: str, context: JsonObject) -> tuple[str, str]:
    with pytest.raises(InvalidHookRequest) as raised:
        parse_context(hook, context)
    (issue, *_) = raised.value.issues
    assert raised.value.status_code == 400
    return issue.expression[0], issue.diagnostics


class TestOrderSign:
    def test_draft_orders_are_read_from_the_bundle(self) -> None:
        context = parse_context("order-sign", order_context())
        assert isinstance(context, OrderSignContext)
        assert context.draft_orders == [IMAGING, OPIOID]

    def test_encounter_is_optional(self) -> None:
        context = order_context()
        del context["encounterId"]
        assert parse_context("order-sign", context).encounterId is None

    def test_draft_orders_are_required(self) -> None:
        context = order_context()
        del context["draftOrders"]
        assert refused("order-sign", context)[0] == "context.draftOrders"

    @pytest.mark.parametrize(
        "value",
        [{"resourceType": "Patient"}, {"resourceType": "Bundle", "entry": [{"fullUrl": "x"}]}],
    )
    def test_draft_orders_must_be_a_bundle_of_resources(self, value: JsonObject) -> None:
        assert refused("order-sign", order_context(draftOrders=value))[0] == "context.draftOrders"

    def test_an_entry_that_is_not_an_order_is_refused(self) -> None:
        where, why = refused("order-sign", order_context(draftOrders=bundle(APPOINTMENT)))
        assert where == "context.draftOrders"
        assert "cannot hold a Appointment" in why

    @pytest.mark.parametrize("user", ["Patient/p1", "RelatedPerson/r1"])
    def test_only_practitioners_sign_orders(self, user: str) -> None:
        where, why = refused("order-sign", order_context(userId=user))
        assert where == "context.userId"
        assert "cannot be the user of this hook" in why


class TestOrderSelect:
    def test_selections_name_draft_orders(self) -> None:
        context = parse_context("order-select", order_context(selections=["ServiceRequest/sr1"]))
        assert isinstance(context, OrderSelectContext)
        assert context.selections == ["ServiceRequest/sr1"]

    @pytest.mark.parametrize("selections", [[], None])
    def test_selections_are_required_and_not_empty(self, selections: list[str] | None) -> None:
        context = order_context(selections=selections)
        if selections is None:
            del context["selections"]
        assert refused("order-select", context)[0] == "context.selections"

    def test_a_selection_missing_from_draft_orders_is_refused(self) -> None:
        where, why = refused("order-select", order_context(selections=["ServiceRequest/other"]))
        assert where == "context.selections"
        assert "ServiceRequest/other not in draftOrders" in why

    def test_a_selection_must_be_a_reference(self) -> None:
        assert refused("order-select", order_context(selections=["sr1"]))[0] == "context.selections.0"


class TestAppointmentBook:
    def test_appointments_are_read_from_the_bundle(self) -> None:
        context = parse_context(
            "appointment-book",
            {"userId": "Patient/p1", "patientId": "p1", "appointments": bundle(APPOINTMENT)},
        )
        assert isinstance(context, AppointmentBookContext)
        assert context.booked == [APPOINTMENT]
        assert context.encounterId is None

    @pytest.mark.parametrize(
        "user", ["Practitioner/1", "PractitionerRole/1", "Patient/p1", "RelatedPerson/2"]
    )
    def test_users(self, user: str) -> None:
        context = {"userId": user, "patientId": "p1", "appointments": bundle(APPOINTMENT)}
        assert parse_context("appointment-book", context).userId == user

    def test_appointments_are_required(self) -> None:
        where, _ = refused("appointment-book", {"userId": "Practitioner/1", "patientId": "p1"})
        assert where == "context.appointments"

    def test_only_appointments(self) -> None:
        context = {"userId": "Practitioner/1", "patientId": "p1", "appointments": bundle(IMAGING)}
        assert refused("appointment-book", context)[0] == "context.appointments"

    def test_other_hooks_have_no_orders_or_appointments(self) -> None:
        context = parse_context("patient-view", {"userId": "Practitioner/1", "patientId": "p1"})
        assert context.draft_orders == []
        assert context.booked == []
