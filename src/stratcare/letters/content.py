"""The facts a letter states, as plain values for the templates (no FHIR shapes, no markup)."""

from __future__ import annotations

from dataclasses import dataclass

from stratcare.letters.clinic_content import ResourceLink


@dataclass(frozen=True)
class AppointmentDetails:
    day: str | None
    """``Tuesday 8 December 2026``, or None when the appointment has no date yet."""
    time: str | None
    clinic: str
    place: str | None
    instructions: str | None


@dataclass(frozen=True)
class PreConsultationLetter:
    letter_date: str
    patient_name: str | None
    """None when the record has no name: the letter then greets without one."""
    appointment: AppointmentDetails


@dataclass(frozen=True)
class QuestionnaireImpact:
    title: str
    answered_on: str | None
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Finding:
    name: str
    result: str | None
    on: str | None


@dataclass(frozen=True)
class PostConsultationLetter:
    letter_date: str
    patient_name: str | None
    """None when the record has no name: the letter then greets without one."""
    gp_name: str | None
    consultation_date: str | None
    clinic: str
    clinician_name: str | None
    impact: tuple[QuestionnaireImpact, ...]
    procedures: tuple[str, ...]
    medications: tuple[str, ...]
    referrals: tuple[str, ...]
    findings: tuple[Finding, ...]
    patient_resources: tuple[ResourceLink, ...]
