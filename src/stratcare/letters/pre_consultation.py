"""The pre-consultation letter's facts, from the Patient and the Appointment being booked."""

from __future__ import annotations

from datetime import datetime

from stratcare.json_types import JsonObject
from stratcare.letters.content import AppointmentDetails, PreConsultationLetter
from stratcare.letters.fhir_text import (
    as_list,
    clock_time,
    concept_text,
    fhir_date,
    long_date,
    person_name,
    reference_display,
)

DEFAULT_CLINIC_NAME = "spine clinic"


def appointment_details(appointment: JsonObject) -> AppointmentDetails:
    day = fhir_date(appointment.get("start"))
    clinic_concepts = [*as_list(appointment.get("serviceType")), *as_list(appointment.get("specialty"))]
    clinic = next((text for text in map(concept_text, clinic_concepts) if text), DEFAULT_CLINIC_NAME)
    instructions = appointment.get("patientInstruction")
    return AppointmentDetails(
        day=long_date(day) if day else None,
        time=clock_time(appointment.get("start")),
        clinic=clinic,
        place=_location(appointment),
        instructions=instructions if isinstance(instructions, str) and instructions.strip() else None,
    )


def _location(appointment: JsonObject) -> str | None:
    for participant in appointment.get("participant", []):
        actor = participant.get("actor") if isinstance(participant, dict) else None
        reference = actor.get("reference", "") if isinstance(actor, dict) else ""
        if isinstance(reference, str) and "Location/" in reference:
            return reference_display(actor)
    return None


def pre_consultation_letter(
    patient: JsonObject | None, appointment: JsonObject, now: datetime
) -> PreConsultationLetter:
    return PreConsultationLetter(
        letter_date=long_date(now.date()),
        patient_name=person_name(patient),
        appointment=appointment_details(appointment),
    )
