"""order-sign, order-select and appointment-book end to end over ASGI, and the workflow point stored."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from stratcare.json_types import JsonObject
from stratcare.settings import Settings
from stratcare.store import schema
from support.bundles import searchset

SNOMED = "http://snomed.info/sct"
CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1970-05-14"}
BACK_PAIN = {
    "resourceType": "Condition",
    "id": "c1",
    "clinicalStatus": {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
    },
    "category": [{"coding": [{"system": CATEGORY, "code": "problem-list-item"}]}],
    "code": {"coding": [{"system": SNOMED, "code": "279039007"}]},
    "subject": {"reference": "Patient/p1"},
}
MRI = {
    "resourceType": "ServiceRequest",
    "id": "mri-1",
    "status": "draft",
    "intent": "order",
    "code": {"coding": [{"system": SNOMED, "code": "394451000119106"}]},
    "subject": {"reference": "Patient/p1"},
}


def body(hook: str, context: JsonObject, **prefetch: JsonObject) -> JsonObject:
    values: JsonObject = {
        "patient": PATIENT,
        "startBackResponses": searchset(),
        "nihResponses": searchset(),
        "conditions": searchset(BACK_PAIN),
    }
    return {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "context": context,
        "prefetch": values | prefetch,
    }


async def stored_points(settings: Settings) -> list[tuple[str, str | None]]:
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(schema.cards.c.pathway_action, schema.cards.c.workflow_point)
            )
            return [(row.pathway_action, row.workflow_point) for row in rows]
    finally:
        await engine.dispose()


class TestDiscovery:
    async def test_lists_every_hook(self, client: httpx.AsyncClient) -> None:
        services = {s["id"]: s["hook"] for s in (await client.get("/cds-services")).json()["services"]}
        assert (
            services.items()
            >= {
                "start-back-patient-view": "patient-view",
                "start-back-encounter-start": "encounter-start",
                "start-back-order-select": "order-select",
                "start-back-order-sign": "order-sign",
                "start-back-appointment-book": "appointment-book",
            }.items()
        )


class TestOrderSign:
    async def test_imaging_without_a_screen_gets_a_warning_that_does_not_block(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        context = {
            "userId": "Practitioner/d1",
            "patientId": "p1",
            "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": MRI}]},
        }
        request = body("order-sign", context, serviceRequests=searchset())
        response = await client.post("/cds-services/start-back-order-sign", json=request)
        assert response.status_code == 200, response.text
        (card,) = response.json()["cards"]
        assert card["indicator"] == "warning"
        (suggestion,) = card["suggestions"]
        assert [action["type"] for action in suggestion["actions"]] == ["create"]
        assert await stored_points(settings) == [("imaging-without-screen", "clinician")]

    async def test_order_select_is_about_the_orders_just_selected(self, client: httpx.AsyncClient) -> None:
        """The lumbar MRI is already in the basket; selecting paracetamol next says nothing about it."""
        paracetamol = {
            "resourceType": "MedicationRequest",
            "id": "med-1",
            "status": "draft",
            "intent": "order",
            "medicationCodeableConcept": {
                "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "161"}]
            },
            "subject": {"reference": "Patient/p1"},
        }
        drafts = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": MRI}, {"resource": paracetamol}],
        }
        cards = {}
        for selection in ("MedicationRequest/med-1", "ServiceRequest/mri-1"):
            context = {
                "userId": "Practitioner/d1",
                "patientId": "p1",
                "draftOrders": drafts,
                "selections": [selection],
            }
            response = await client.post(
                "/cds-services/start-back-order-select",
                json=body("order-select", context, serviceRequests=searchset()),
            )
            assert response.status_code == 200, response.text
            cards[selection] = [card["summary"] for card in response.json()["cards"]]
        assert cards["MedicationRequest/med-1"] == []
        (summary,) = cards["ServiceRequest/mri-1"]
        assert "imaging" in summary.lower()

    async def test_order_select_needs_its_selections(self, client: httpx.AsyncClient) -> None:
        context = {
            "userId": "Practitioner/d1",
            "patientId": "p1",
            "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": MRI}]},
            "selections": ["ServiceRequest/not-there"],
        }
        response = await client.post(
            "/cds-services/start-back-order-select",
            json=body("order-select", context, serviceRequests=searchset()),
        )
        assert response.status_code == 400
        assert response.json()["resourceType"] == "OperationOutcome"
        assert "draftOrders" in response.text


class TestAppointmentBook:
    def booking(self, user: str, **prefetch: JsonObject) -> JsonObject:
        appointment = {
            "resourceType": "Appointment",
            "id": "appt-1",
            "status": "proposed",
            "start": "2026-12-20T09:30:00Z",
            "reasonCode": [{"coding": [{"system": SNOMED, "code": "279039007"}]}],
            "participant": [{"actor": {"reference": "Patient/p1"}, "status": "accepted"}],
        }
        context = {
            "userId": user,
            "patientId": "p1",
            "appointments": {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": appointment}],
            },
        }
        return body("appointment-book", context, tasks=searchset(), **prefetch)

    async def test_a_back_pain_booking_suggests_the_portal_task(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        response = await client.post(
            "/cds-services/start-back-appointment-book", json=self.booking("Practitioner/r1")
        )
        assert response.status_code == 200, response.text
        (card,) = response.json()["cards"]
        (action,) = card["suggestions"][0]["actions"]
        assert action["resource"]["resourceType"] == "Task"
        assert action["resource"]["owner"] == {"reference": "Patient/p1"}
        assert await stored_points(settings) == [("pre-visit-questionnaire", "pre-visit")]

    async def test_a_patient_booking_in_the_portal_gets_no_cards(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/cds-services/start-back-appointment-book", json=self.booking("Patient/p1")
        )
        assert response.status_code == 200
        assert response.json()["cards"] == []


class TestRolesOnEncounterStart:
    async def test_front_desk_gets_the_staff_task_and_the_point_is_stored(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        role = {
            "resourceType": "PractitionerRole",
            "id": "fd1",
            "active": True,
            "organization": {"reference": "Organization/clinic-1"},
            "code": [
                {
                    "coding": [
                        {"system": "http://stratcare.org/fhir/CodeSystem/clinic-role", "code": "front-desk"}
                    ]
                }
            ],
        }
        encounter = {
            "resourceType": "Encounter",
            "id": "e1",
            "status": "arrived",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "subject": {"reference": "Patient/p1"},
        }
        context = {"userId": "PractitionerRole/fd1", "patientId": "p1", "encounterId": "e1"}
        request = body(
            "encounter-start",
            context,
            encounter=encounter,
            serviceRequests=searchset(),
            tasks=searchset(),
            userRole=role,
            mentalHealthResponses=searchset(),
        )
        response = await client.post("/cds-services/start-back-encounter-start", json=request)
        assert response.status_code == 200, response.text
        (card,) = response.json()["cards"]
        task = card["suggestions"][0]["actions"][0]["resource"]
        assert task["owner"] == {"reference": "Organization/clinic-1"}
        assert "risk" not in card["summary"]
        assert await stored_points(settings) == [("screening-due-staff", "front-desk")]
