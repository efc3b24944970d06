"""Missed-patient lists as shown to a user: pseudonymous unless the user may see who the patients are."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from stratcare.reports.measures import MissedPatient
from stratcare.reports.pseudonym import pseudonym


@dataclass(frozen=True)
class MissedPatientEntry:
    clinic: str
    patient: str
    """The patient id for an authorised user, else the keyed pseudonym."""
    identifiable: bool
    clinician: str | None
    workflow_point: str
    identified_at: datetime
    risk_group: str | None
    reason: str
    next_appointment: datetime | None


def missed_entries(
    patients: Sequence[MissedPatient],
    *,
    identifiable: bool,
    key: bytes,
    appointments: Mapping[tuple[str | None, str], datetime | None] | None = None,
) -> list[MissedPatientEntry]:
    """The list entries; ``appointments`` maps (FHIR server, patient id) to the next appointment."""
    found = appointments or {}
    return [
        MissedPatientEntry(
            clinic=patient.clinic,
            patient=patient.patient_id if identifiable else pseudonym(key, patient.patient_id),
            identifiable=identifiable,
            clinician=patient.clinician,
            workflow_point=patient.workflow_point,
            identified_at=patient.identified_at,
            risk_group=patient.risk_group,
            reason=patient.reason,
            next_appointment=found.get((patient.fhir_server, patient.patient_id)),
        )
        for patient in patients
    ]
